"""Peewee models mirroring schema.sql; tables are created from schema.sql, never from here."""
import json
import uuid
from datetime import datetime, timezone

from peewee import ForeignKeyField, IntegerField, Model, TextField

from .db import db

LEAD_STATUSES = ("new", "qualified", "booked", "converted", "lost")
CHANNELS = ("whatsapp", "voice", "webform", "instagram", "email")
CONVERSATION_STATUSES = ("active", "awaiting_human", "closed")
EVENT_TYPES = (
    "lead.created", "lead.updated", "lead.qualified",
    "conversation.created", "conversation.handoff_requested", "conversation.closed",
    "booking.created", "booking.rescheduled", "booking.cancelled", "booking.completed",
    "offering.created", "offering.updated",
)


def new_id():
    """Return a new random (version 4) UUID as canonical text."""
    return str(uuid.uuid4())


def format_timestamp(moment):
    """Format an aware datetime as RFC 3339 UTC with six fractional digits and a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now():
    """Return the current time as a vorel-lite timestamp string."""
    return format_timestamp(datetime.now(timezone.utc))


class JSONTextField(TextField):
    """A JSON document kept in a TEXT column, so the schema stays portable."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False,
                                                     separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    def apply_changes(self, changes):
        """Apply the fields of a PATCH."""
        for name, value in changes.items():
            setattr(self, name, value)


class Tenant(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    slug = TextField(unique=True)
    name = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "tenants"


class ApiKey(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", backref="api_keys", index=True)
    name = TextField(null=True)
    env = TextField()
    key_hash = TextField(unique=True)
    display_prefix = TextField()
    last4 = TextField()
    scopes = TextField()
    created_at = TextField(default=utc_now)
    last_used_at = TextField(null=True)
    revoked_at = TextField(null=True)

    class Meta:
        table_name = "api_keys"

    @property
    def scope_set(self):
        """Return the key's scopes as a frozenset."""
        return frozenset(self.scopes.split())


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
        )


class Lead(BaseModel):
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

    def apply_changes(self, changes):
        """Apply a PATCH: attributes shallow-merge (null deletes a key), the rest replace."""
        changes = dict(changes)
        if "attributes" in changes:
            merged = dict(self.attributes)
            for name, value in changes.pop("attributes").items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            changes["attributes"] = merged
        super().apply_changes({**changes, "updated_at": utc_now()})


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
