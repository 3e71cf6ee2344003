"""The error envelope every failed request answers (vorel_lite/errors.py builds it)."""
from marshmallow import fields
from marshmallow.validate import OneOf

from .common import Representation

# The seed's closed list, in its order.
ERROR_CODES = ("unauthorized", "forbidden", "rate_limited", "bad_request", "not_found",
               "conflict", "internal_error")


class Error(Representation):
    class Meta(Representation.Meta):
        optional = ("field_messages", "existing_id")

    code = fields.String(validate=OneOf(ERROR_CODES),
                         metadata={"description": "Machine-readable error category."})
    message = fields.String(metadata={
        "description": "Human-readable error description; safe to surface in tenant logs."})
    # data_key: a field named "fields" would shadow Schema.fields.
    field_messages = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "vorel-lite: on a 400, each offending field and its "
                                 "messages."})
    existing_id = fields.String(metadata={
        "description": "vorel-lite: on a 409, the id of the row that already holds the "
                       "natural key."})


class ErrorEnvelope(Representation):
    error = fields.Nested(Error)
