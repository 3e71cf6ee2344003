"""Conversation bodies and representation; the send body and its result."""
from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf

from ..models import CHANNELS, CONVERSATION_STATUSES, MESSAGE_LANGUAGES
from .common import UpdateSchema
from .fields import FullMatch, NotUpdatable

LANGUAGE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"


def customer_name():
    """Return the customer_name field (create and update share its rules)."""
    return fields.String(allow_none=True, validate=Length(max=200))


def customer_language():
    """Return the customer_language field (create and update share its rules)."""
    return fields.String(allow_none=True, validate=FullMatch(LANGUAGE_PATTERN),
                         metadata={"description": "Language tag such as `en` or `ar-AE`."})


class ConversationCreate(Schema):
    channel = fields.String(required=True, validate=OneOf(CHANNELS))
    customer_identifier = fields.String(
        required=True, validate=Length(1, 255),
        metadata={"description": "E.164 phone, email, handle…; stored as given."})
    customer_name = customer_name()
    customer_language = customer_language()


class ConversationUpdate(UpdateSchema):
    customer_name = customer_name()
    customer_language = customer_language()
    id_ = NotUpdatable(data_key="id")
    channel = NotUpdatable()
    customer_identifier = NotUpdatable()
    status = NotUpdatable()
    created_at = NotUpdatable()
    first_message_at = NotUpdatable()
    last_message_at = NotUpdatable()


class ConversationOut(Schema):
    id = fields.String()
    channel = fields.String(validate=OneOf(CHANNELS))
    customer_identifier = fields.String()
    customer_name = fields.String(allow_none=True)
    customer_language = fields.String(allow_none=True)
    status = fields.String(validate=OneOf(CONVERSATION_STATUSES))
    created_at = fields.String()
    first_message_at = fields.String(allow_none=True)
    last_message_at = fields.String(allow_none=True)


class MessageSend(Schema):
    text = fields.String(required=True, validate=Length(1, 4096))
    # Nullable: null says "not stated", like leaving the field out, and is stored as null.
    language = fields.String(allow_none=True, validate=OneOf(MESSAGE_LANGUAGES), metadata={
        "description": "Language of the text; omit it or send null when it is not known."})


class SendResultOut(Schema):
    message_id = fields.String(attribute="id")
    sequence_number = fields.Integer()
    sent_at = fields.String()
    mocked = fields.Constant(True)
