"""Managing subscriptions: add, count their deliveries, remove, redrive the dead-lettered."""
from peewee import fn

from ..models import (DELIVERY_STATUSES, EVENT_TYPES, WebhookDelivery, WebhookSubscription,
                      utc_now)
from ..outbound import check_url
from .secrets import encrypt_secret, generate_secret


def add_subscription(tenant, url, events=(), description=None):
    """Create a subscription and return (row, secret); the secret is shown only this once."""
    check_url(url)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event type(s): {', '.join(unknown)}")
    secret = generate_secret()
    row = WebhookSubscription.create(
        tenant=tenant, url=url, description=description,
        events=" ".join(e for e in EVENT_TYPES if e in events or not events),
        encrypted_secret=encrypt_secret(secret), secret_prefix=secret[:10])
    return row, secret


def delivery_counts(subscription_ids):
    """Return {subscription id: {status: count}} for the given subscriptions."""
    counts = {sid: dict.fromkeys(DELIVERY_STATUSES, 0) for sid in subscription_ids}
    rows = (WebhookDelivery
            .select(WebhookDelivery.subscription, WebhookDelivery.status,
                    fn.COUNT(WebhookDelivery.id).alias("n"))
            .where(WebhookDelivery.subscription.in_(list(subscription_ids)))
            .group_by(WebhookDelivery.subscription, WebhookDelivery.status)
            .tuples())
    for subscription_id, status, number in rows:
        counts[subscription_id][status] = number
    return counts


def remove_subscription(subscription_id):
    """Delete a subscription with its deliveries and attempts; return False if unknown."""
    # Its deliveries and their attempts go with it: ON DELETE CASCADE in schema.sql.
    return WebhookSubscription.delete().where(
        WebhookSubscription.id == subscription_id).execute() > 0


def redrive(subscription_id):
    """Re-queue a subscription's dead-lettered deliveries, each with a fresh set of attempts."""
    return (WebhookDelivery
            .update(status="pending", next_attempt_at=utc_now(), finished_at=None,
                    attempts_at_redrive=WebhookDelivery.attempts)
            .where((WebhookDelivery.subscription == subscription_id)
                   & (WebhookDelivery.status == "dead"))
            .execute())
