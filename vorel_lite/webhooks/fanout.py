"""Turning a committed event into one pending delivery per matching subscription."""
from ..models import WebhookDelivery, WebhookSubscription, new_id, utc_now
from ..statements import Select, param

TENANT_SUBSCRIPTIONS = Select(WebhookSubscription, lambda: (
    WebhookSubscription.select(WebhookSubscription.id, WebhookSubscription.events)
    .where(WebhookSubscription.tenant == param("tenant"))))


def fan_out(*events):
    """Queue events of one tenant for each subscription that wants them (same transaction)."""
    if not events:
        return 0
    subscriptions = TENANT_SUBSCRIPTIONS.rows(tenant=events[0].tenant_id)
    if not subscriptions:
        return 0
    now = utc_now()
    rows = [{"id": new_id(), "subscription": subscription.id, "event": event.id,
             "status": "pending", "attempts": 0, "attempts_at_redrive": 0,
             "next_attempt_at": now, "created_at": now}
            for event in events
            for subscription in subscriptions if event.event in subscription.event_set]
    if rows:
        WebhookDelivery.insert_many(rows).execute()
    return len(rows)
