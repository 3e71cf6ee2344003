"""Conversation bodies and representation; the send body and its result."""
from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf, Range

from ..models import CHANNELS, CONVERSATION_STATUSES, MESSAGE_LANGUAGES
from .common import Representation, UpdateSchema
from .fields import CanonicalUUID, FullMatch, NotUpdatable, OffsetDateTime

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


class ConversationOut(Representation):
    id = CanonicalUUID()
    channel = fields.String(validate=OneOf(CHANNELS))
    customer_identifier = fields.String()
    customer_name = fields.String(allow_none=True)
    customer_language = fields.String(allow_none=True)
    status = fields.String(validate=OneOf(CONVERSATION_STATUSES))
    created_at = OffsetDateTime()
    first_message_at = OffsetDateTime(allow_none=True)
    last_message_at = OffsetDateTime(allow_none=True)


class MessageSend(Schema):
    text = fields.String(required=True, validate=Length(1, 4096))
    # Nullable: null says "not stated", like leaving the field out, and is stored as null.
    language = fields.String(allow_none=True, validate=OneOf(MESSAGE_LANGUAGES), metadata={
        "description": "Language of the text; omit it or send null when it is not known."})


class SendResultOut(Representation):
    message_id = CanonicalUUID(attribute="id")
    sequence_number = fields.Integer(validate=Range(min=1), metadata={
        "description": "1, 2, 3, … within the conversation, no gaps."})
    sent_at = OffsetDateTime()
    mocked = fields.Constant(True, metadata={
        "description": "vorel-lite delivers to no real messaging channel."})
