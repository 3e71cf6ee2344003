"""Turning a committed event into one pending delivery per matching subscription."""
from ..models import WebhookDelivery, WebhookSubscription, new_id, utc_now
from ..statements import Select, param

TENANT_SUBSCRIPTIONS = Select(WebhookSubscription, lambda: (
    WebhookSubscription.select(WebhookSubscription.id, WebhookSubscription.events)
    .where(WebhookSubscription.tenant == param("tenant"))))


def fan_out(event):
    """Queue event for every subscription of its tenant that wants it (same transaction)."""
    subscriptions = TENANT_SUBSCRIPTIONS.rows(tenant=event.tenant_id)
    now = utc_now()
    rows = [{"id": new_id(), "subscription": subscription.id, "event": event.id,
             "status": "pending", "attempts": 0, "attempts_at_redrive": 0,
             "next_attempt_at": now, "created_at": now}
            for subscription in subscriptions if event.event in subscription.event_set]
    if rows:
        WebhookDelivery.insert_many(rows).execute()
    return len(rows)
