"""Claims on due deliveries: taken atomically by one worker, for a lease longer than its use."""
from flask import current_app

from ..db import db
from ..models import Event, WebhookDelivery, WebhookSubscription, new_id, utc_now


def lease_seconds():
    """Return how long a claim lasts: longer than any attempt can take."""
    # An attempt ends by WEBHOOK_TIMEOUT_SECONDS (a deadline for all of it, outbound.py);
    # the rest is room for recording it on a busy database.
    return 3 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 5


def sending_seconds():
    """Return how long after its claim a delivery of a batch may still be sent."""
    # An attempt started this late still ends, with WEBHOOK_TIMEOUT_SECONDS + 5 left for
    # recording it: the margin a claim of a single delivery has.
    return lease_seconds() - 2 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] - 5


def claimable(now):
    """Return the condition of a delivery this worker may claim now."""
    return ((WebhookDelivery.status == "pending")
            & (WebhookDelivery.next_attempt_at <= now)
            & (WebhookDelivery.claimed_until.is_null() | (WebhookDelivery.claimed_until < now)))


def claim_due(limit, busy=frozenset(), batch=1):
    """Claim due deliveries for this worker alone; return them with their rows, oldest first.

    Up to batch deliveries of each of up to limit subscriptions, none of those in busy (being
    sent to by this worker already): a subscription's deliveries go one at a time, in order,
    and a slow receiver holds one of the worker's slots, never all.
    """
    now, token = utc_now(), new_id()
    candidates = (WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.subscription)
                  .where(claimable(now)).order_by(WebhookDelivery.next_attempt_at)
                  .limit(limit * batch))
    if busy:
        candidates = candidates.where(WebhookDelivery.subscription.not_in(list(busy)))
    if db.obj.for_update:
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        candidates = candidates.for_update(skip_locked=True)
    with db.atomic():
        chosen, counts = [], {}
        for delivery_id, subscription_id in candidates.tuples():
            taken = counts.get(subscription_id, 0)
            if taken < batch and (taken or len(counts) < limit):
                counts[subscription_id] = taken + 1
                chosen.append(delivery_id)
        if not chosen:
            return []
        # The claim conditions are checked again: SQLite has no row locks, and another
        # worker's claim may have committed since the rows were read.
        (WebhookDelivery
         .update(claim_token=token, claimed_until=utc_now(lease_seconds()),
                 attempts=WebhookDelivery.attempts + 1)
         .where(WebhookDelivery.id.in_(chosen) & claimable(now))
         .execute())
    return list(WebhookDelivery.select(WebhookDelivery, WebhookSubscription, Event)
                .join(WebhookSubscription).switch(WebhookDelivery).join(Event)
                .where(WebhookDelivery.claim_token == token)
                .order_by(WebhookDelivery.next_attempt_at))


def renew_claim(delivery):
    """Extend this worker's claim for one attempt; False if the claim was lost meanwhile."""
    now = utc_now()
    return (WebhookDelivery.update(claimed_until=utc_now(lease_seconds()))
            .where((WebhookDelivery.id == delivery.id)
                   & (WebhookDelivery.claim_token == delivery.claim_token)
                   & (WebhookDelivery.claimed_until >= now))
            .execute()) == 1


def release(deliveries):
    """Give back claimed deliveries that were not sent, with the attempt their claim counted."""
    for token in {delivery.claim_token for delivery in deliveries}:
        (WebhookDelivery
         .update(claim_token=None, claimed_until=None, attempts=WebhookDelivery.attempts - 1)
         .where(WebhookDelivery.id.in_([d.id for d in deliveries if d.claim_token == token])
                & (WebhookDelivery.claim_token == token))
         .execute())
