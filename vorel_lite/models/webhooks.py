"""Webhook subscriptions, the delivery of each event to each, and every attempt made."""
from peewee import ForeignKeyField, IntegerField, TextField

from .base import BaseModel, new_id, utc_now
from .resources import EVENT_TYPES, Event
from .tenancy import Tenant

DELIVERY_STATUSES = ("pending", "delivered", "dead")


class WebhookSubscription(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=True)
    url = TextField()
    events = TextField()
    description = TextField(null=True)
    encrypted_secret = TextField()
    secret_prefix = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "webhook_subscriptions"

    @property
    def event_set(self):
        """Return the event types this subscription receives."""
        return frozenset(self.events.split())

    @property
    def receives_all(self):
        """Tell whether this subscription receives every event type."""
        return self.event_set >= frozenset(EVENT_TYPES)


class WebhookDelivery(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    subscription = ForeignKeyField(WebhookSubscription, column_name="subscription_id",
                                   index=False, on_delete="CASCADE")
    event = ForeignKeyField(Event, column_name="event_id", index=False)
    status = TextField(default="pending")
    # Attempts whose outcome is recorded; a claim makes attempt number attempts + 1.
    attempts = IntegerField(default=0)
    # A redrive grants a fresh WEBHOOK_MAX_ATTEMPTS while attempt numbers keep counting up.
    attempts_at_redrive = IntegerField(default=0)
    next_attempt_at = TextField(default=utc_now)
    claimed_until = TextField(null=True)
    claim_token = TextField(null=True, index=True)
    last_status_code = IntegerField(null=True)
    last_error = TextField(null=True)
    created_at = TextField(default=utc_now)
    finished_at = TextField(null=True)
    # Claims since the last recorded attempt: more than one, workers stopped holding it.
    claims = IntegerField(default=0)

    class Meta:
        table_name = "webhook_deliveries"
        indexes = (
            (("subscription", "event"), True),
            (("status", "next_attempt_at"), False),
        )


class WebhookAttempt(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    delivery = ForeignKeyField(WebhookDelivery, column_name="delivery_id", index=False,
                               on_delete="CASCADE")
    attempt = IntegerField()
    started_at = TextField()
    duration_ms = IntegerField()
    status_code = IntegerField(null=True)
    error = TextField(null=True)

    class Meta:
        table_name = "webhook_attempts"
        indexes = ((("delivery", "attempt"), True),)
