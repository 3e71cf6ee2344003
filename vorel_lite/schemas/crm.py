"""The CRM push body and its answer (POST /api/v1/crm/create-record)."""
from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf

from .fields import FullMatch

CRM_OBJECTS = ("contact", "lead", "deal", "appointment", "case")
# The key also travels as the Idempotency-Key header of the push: no control characters.
IDEMPOTENCY_KEY_PATTERN = r"^[^\u0000-\u001f\u007f]+$"


class CrmRecordCreate(Schema):
    # data_key: "object" and "fields" would shadow a builtin and Schema.fields.
    object_name = fields.String(data_key="object", required=True, validate=OneOf(CRM_OBJECTS))
    record_fields = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.Raw(allow_none=True),
        required=True, metadata={"description": "The record's fields, renamed by the tenant's "
                                                "field maps before the push."})
    idempotency_key = fields.String(
        required=True, validate=[Length(1, 200), FullMatch(IDEMPOTENCY_KEY_PATTERN)],
        metadata={"description": "A successful push with this key is answered again without "
                                 "a second push; a failed one is not remembered."})
