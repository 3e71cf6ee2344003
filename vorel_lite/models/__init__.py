"""Peewee models mirroring schema.sql; tables are created from schema.sql, never from here."""
from .base import BaseModel, JSONTextField, format_timestamp, new_id, utc_now
from .bookings import APPOINTMENT_STATUSES, Appointment
from .catalog import Offering
from .crm import CRM_RECORD_STATES, CrmConnection, CrmPush, CrmRecord
from .idempotency import IdempotencyKey
from .operators import Operator
from .resources import (CHANNELS, CONVERSATION_STATUSES, EVENT_TYPES, HANDOFF_CHANNELS,
                        LEAD_STATUSES, MESSAGE_LANGUAGES, Conversation, Event, Handoff, Lead,
                        Message)
from .tenancy import ApiKey, Tenant
from .webhooks import (DELIVERY_STATUSES, WebhookAttempt, WebhookDelivery,
                       WebhookSubscription)

__all__ = [
    "BaseModel", "JSONTextField", "format_timestamp", "new_id", "utc_now",
    "APPOINTMENT_STATUSES", "Appointment", "Offering", "CRM_RECORD_STATES", "CrmConnection",
    "CrmPush", "CrmRecord", "IdempotencyKey", "Operator",
    "CHANNELS", "CONVERSATION_STATUSES", "EVENT_TYPES", "HANDOFF_CHANNELS", "LEAD_STATUSES",
    "MESSAGE_LANGUAGES", "Conversation", "Event", "Handoff", "Lead", "Message", "ApiKey",
    "Tenant", "DELIVERY_STATUSES", "WebhookAttempt", "WebhookDelivery", "WebhookSubscription",
]
