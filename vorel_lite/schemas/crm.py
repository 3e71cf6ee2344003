"""The CRM push body and its answer (POST /api/v1/crm/create-record)."""
from marshmallow import RAISE, Schema, fields
from marshmallow.validate import Length, OneOf

from .common import Representation
from .fields import FullMatch

CRM_OBJECTS = ("contact", "lead", "deal", "appointment", "case")
CRM_ERROR_CODES = ("not_configured", "crm_rejected", "crm_unavailable", "crm_bad_answer")
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


class PushResult(Representation):
    """One variant of a push's answer."""

    class Meta(Representation.Meta):
        # Closed: an answer matches exactly one of the two variants.
        unknown = RAISE


class CrmPushSucceeded(PushResult):
    class Meta(PushResult.Meta):
        optional = ("record_url",)

    ok = fields.Constant(True)
    external_id = fields.String(metadata={
        "description": "The CRM's id of the record (its `id`, as text)."})
    record_url = fields.String(metadata={
        "description": "The CRM's `url` of the record, when it gave an http(s) one."})


class CrmPushError(PushResult):
    code = fields.String(validate=OneOf(CRM_ERROR_CODES), metadata={"description": (
        "`not_configured`: no CRM connected; `crm_rejected`: a 4xx other than 408/429; "
        "`crm_unavailable`: a 5xx, 408, 429, timeout or refused connection, or the tenant's "
        "pushes in flight are at their limit (retry later); `crm_bad_answer`: a 3xx (not "
        "followed), or a 2xx that is not a JSON object with an `id`.")})
    message = fields.String()


class CrmPushFailed(PushResult):
    ok = fields.Constant(False)
    error = fields.Nested(CrmPushError)
