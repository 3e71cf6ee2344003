"""Managing subscriptions: add, count and list their deliveries, remove, redrive the
dead-lettered, send a test event."""
from flask import current_app
from peewee import fn

from ..models import (DELIVERY_STATUSES, EVENT_TYPES, Event, WebhookDelivery,
                      WebhookSubscription, new_id, utc_now)
from ..outbound import check_target
from .secrets import decrypt_secret, encrypt_secret, generate_secret
from .sending import Outcome, post_event

TEST_EVENT = "webhook.test"


def add_subscription(tenant, url, events=(), description=None):
    """Create a subscription and return (row, secret); the secret is shown only this once.

    Raises ValueError for a URL check_target refuses under WEBHOOK_PRIVATE_TARGETS.
    """
    check_target(url, current_app.config["WEBHOOK_PRIVATE_TARGETS"])
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


def recent_deliveries(subscription_id, limit=50):
    """Return the subscription's newest deliveries, newest first, each with its event's id and
    type (not its data)."""
    return list(WebhookDelivery
                .select(WebhookDelivery, Event.id, Event.event)
                .join(Event)
                .where(WebhookDelivery.subscription == subscription_id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(limit))


def remove_subscription(subscription_id):
    """Delete a subscription with its deliveries and attempts; return False if unknown."""
    # Its deliveries and their attempts go with it: ON DELETE CASCADE in schema.sql.
    return WebhookSubscription.delete().where(
        WebhookSubscription.id == subscription_id).execute() > 0


def redrive(subscription_id):
    """Re-queue a subscription's dead-lettered deliveries, each with a fresh set of attempts."""
    return (WebhookDelivery
            .update(status="pending", next_attempt_at=utc_now(), finished_at=None,
                    attempts_at_redrive=WebhookDelivery.attempts, claims=0)
            .where((WebhookDelivery.subscription == subscription_id)
                   & (WebhookDelivery.status == "dead"))
            .execute())


def send_test_event(subscription):
    """POST a signed webhook.test envelope to the subscription now; return the Outcome.

    Within WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_PRIVATE_TARGETS applying; never raises for the
    receiver's sake nor for a secret that can no longer be decrypted (the Outcome says why).
    """
    envelope = {"id": new_id(), "event": TEST_EVENT, "created_at": utc_now(),
                "tenant_id": subscription.tenant_id, "data": {"subscription_id": subscription.id}}
    try:
        secret = decrypt_secret(subscription.encrypted_secret)
    except ValueError as exc:
        return Outcome(None, str(exc), 0)
    return post_event(subscription.url, secret, envelope, 1)
