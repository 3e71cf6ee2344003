"""Claims on due deliveries: taken atomically by one worker, for a lease longer than its use."""
import logging

from flask import current_app

from ..db import db
from ..models import Event, WebhookDelivery, WebhookSubscription, new_id, utc_now

log = logging.getLogger("vorel_lite.webhooks")


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


def attempt_number(delivery):
    """Return the number of the attempt a claim of delivery makes: one past those recorded."""
    # A claim that ended with nothing recorded (its worker killed) used no number: the
    # delivery is sent again as the same attempt, which receivers dedupe on webhook-id.
    return delivery.attempts + 1


def claim_due(limit, busy=frozenset(), batch=1, retake_lost=True):
    """Claim due deliveries for this worker alone; return them with their rows, oldest first.

    Up to batch deliveries of each of up to limit subscriptions, none of those in busy (being
    sent to by this worker already): a subscription's deliveries go one at a time, in order,
    and a slow receiver holds one of the worker's slots, never all.

    A delivery whose last claim was lost (claims > 0: its worker stopped holding it) is
    claimed alone, one at most and only with retake_lost, so that a delivery that stops its
    worker each time stops it with nothing else in hand; after WEBHOOK_MAX_ATTEMPTS lost
    claims in a row it is dead-lettered instead.
    """
    now, token = utc_now(), new_id()
    candidates = (WebhookDelivery
                  .select(WebhookDelivery.id, WebhookDelivery.subscription,
                          WebhookDelivery.claims)
                  .where(claimable(now)).order_by(WebhookDelivery.next_attempt_at)
                  .limit(limit * batch))
    if busy:
        candidates = candidates.where(WebhookDelivery.subscription.not_in(list(busy)))
    if not retake_lost:
        candidates = candidates.where(WebhookDelivery.claims == 0)
    if db.obj.for_update:
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        candidates = candidates.for_update(skip_locked=True)
    max_lost = current_app.config["WEBHOOK_MAX_ATTEMPTS"]
    with db.atomic():
        chosen, counts, lost, lone = [], {}, [], False
        for delivery_id, subscription_id, claims in candidates.tuples():
            if claims >= max_lost:
                lost.append(delivery_id)
                continue
            taken = counts.get(subscription_id, 0)
            room = taken < batch and (taken or len(counts) < limit)
            if not room or (claims and (lone or taken)):
                continue
            # A lost one fills its batch alone.
            counts[subscription_id] = batch if claims else taken + 1
            lone = lone or bool(claims)
            chosen.append(delivery_id)
        if lost:
            give_up(lost, now, max_lost)
        if not chosen:
            return []
        # The claim conditions are checked again: SQLite has no row locks, and another
        # worker's claim may have committed since the rows were read.
        (WebhookDelivery
         .update(claim_token=token, claimed_until=utc_now(lease_seconds()),
                 claims=WebhookDelivery.claims + 1)
         .where(WebhookDelivery.id.in_(chosen) & claimable(now))
         .execute())
    return list(WebhookDelivery.select(WebhookDelivery, WebhookSubscription, Event)
                .join(WebhookSubscription).switch(WebhookDelivery).join(Event)
                .where(WebhookDelivery.claim_token == token)
                .order_by(WebhookDelivery.next_attempt_at))


def give_up(delivery_ids, now, lost):
    """Dead-letter due deliveries whose last `lost` claims all ended with nothing recorded."""
    given_up = (WebhookDelivery
                .update(status="dead", claim_token=None, claimed_until=None, finished_at=now,
                        last_error=f"no outcome recorded: the worker sending it stopped "
                                   f"{lost} times in a row")
                .where(WebhookDelivery.id.in_(delivery_ids) & claimable(now))
                .execute())
    if given_up:
        log.warning("webhook deliveries %s dead-lettered: their workers stopped %s times in a "
                    "row while sending them", ",".join(delivery_ids), lost)


def renew_claim(delivery):
    """Extend this worker's claim for one attempt; False if the claim was lost meanwhile."""
    now = utc_now()
    return (WebhookDelivery.update(claimed_until=utc_now(lease_seconds()))
            .where((WebhookDelivery.id == delivery.id)
                   & (WebhookDelivery.claim_token == delivery.claim_token)
                   & (WebhookDelivery.claimed_until >= now))
            .execute()) == 1


def release(deliveries):
    """Give back claimed deliveries that were not sent; those claims no longer count."""
    for token in {delivery.claim_token for delivery in deliveries}:
        (WebhookDelivery
         .update(claim_token=None, claimed_until=None, claims=WebhookDelivery.claims - 1)
         .where(WebhookDelivery.id.in_([d.id for d in deliveries if d.claim_token == token])
                & (WebhookDelivery.claim_token == token))
         .execute())
