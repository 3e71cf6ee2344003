"""The API's resources: conversations, leads, their events, handoffs and messages."""
from peewee import ForeignKeyField, IntegerField, TextField

from .base import BaseModel, JSONTextField, MergesAttributes, new_id, utc_now
from .tenancy import Tenant

LEAD_STATUSES = ("new", "qualified", "booked", "converted", "lost")
CHANNELS = ("whatsapp", "voice", "webform", "instagram", "email")
CONVERSATION_STATUSES = ("active", "awaiting_human", "closed")
EVENT_TYPES = (
    "lead.created", "lead.updated", "lead.qualified",
    "conversation.created", "conversation.handoff_requested", "conversation.closed",
    "booking.created", "booking.rescheduled", "booking.cancelled", "booking.completed",
    "offering.created", "offering.updated",
)
HANDOFF_CHANNELS = ("email", "slack")
MESSAGE_LANGUAGES = ("ar", "en", "mixed")


class Conversation(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    channel = TextField()
    customer_identifier = TextField()
    customer_name = TextField(null=True)
    customer_language = TextField(null=True)
    status = TextField(default="active")
    created_at = TextField(default=utc_now)
    first_message_at = TextField(null=True)
    last_message_at = TextField(null=True)

    class Meta:
        table_name = "conversations"
        indexes = (
            (("tenant", "channel", "customer_identifier"), True),
            (("tenant", "created_at", "id"), False),
            (("tenant", "status", "created_at", "id"), False),
        )


class Lead(MergesAttributes, BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    conversation = ForeignKeyField(Conversation, column_name="conversation_id", unique=True)
    name = TextField(null=True)
    email = TextField(null=True)
    phone = TextField(null=True)
    intent = TextField(null=True)
    timeline = TextField(null=True)
    qualification_score = IntegerField(null=True)
    status = TextField(default="new")
    source = TextField(null=True)
    attributes = JSONTextField(default=dict)
    created_at = TextField(default=utc_now)
    updated_at = TextField(default=utc_now)

    class Meta:
        table_name = "leads"
        indexes = (
            (("tenant", "created_at", "id"), False),
            (("tenant", "status", "created_at", "id"), False),
        )


class Event(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    event = TextField()
    created_at = TextField(default=utc_now)
    data = JSONTextField()

    class Meta:
        table_name = "events"
        indexes = (
            (("tenant", "created_at", "id"), False),
            (("tenant", "event", "created_at", "id"), False),
        )


class Handoff(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    lead = ForeignKeyField(Lead, column_name="lead_id", index=True)
    conversation = ForeignKeyField(Conversation, column_name="conversation_id", index=False)
    reason = TextField(null=True)
    summary = TextField(null=True)
    notified_channel = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "handoffs"
        indexes = ((("tenant", "created_at"), False),)


class Message(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    conversation = ForeignKeyField(Conversation, column_name="conversation_id", index=False)
    sequence_number = IntegerField()
    direction = TextField()
    text = TextField()
    language = TextField(null=True)
    sent_at = TextField(default=utc_now)

    class Meta:
        table_name = "messages"
        indexes = (
            (("conversation", "sequence_number"), True),
            (("tenant", "sent_at"), False),
        )
