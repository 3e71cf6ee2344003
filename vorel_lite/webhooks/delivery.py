"""The delivery worker: claim due deliveries atomically, send them, record every attempt."""
import logging
import random
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from flask import current_app

from ..db import db
from ..models import (Event, WebhookAttempt, WebhookDelivery, WebhookSubscription,
                      new_id, utc_now)
from ..schemas.events import EventOut
from .secrets import decrypt_secret
from .sending import Outcome, post_event

log = logging.getLogger("vorel_lite.webhooks")
envelope_schema = EventOut()


def lease_seconds():
    """Return how long a claim lasts: longer than any attempt can take."""
    # An attempt ends by WEBHOOK_TIMEOUT_SECONDS (a deadline for all of it, outbound.py);
    # the rest is room for recording it on a busy database.
    return 3 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 5


def claim_due(limit, busy=frozenset()):
    """Claim up to limit due deliveries for this worker alone; return them with their rows.

    At most one per subscription, and none of the subscriptions in busy (being sent to by
    this worker already): a slow receiver holds one of the worker's slots, never all.
    """
    now, token = utc_now(), new_id()
    claimable = ((WebhookDelivery.status == "pending")
                 & (WebhookDelivery.next_attempt_at <= now)
                 & (WebhookDelivery.claimed_until.is_null()
                    | (WebhookDelivery.claimed_until < now)))
    candidates = (WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.subscription)
                  .where(claimable).order_by(WebhookDelivery.next_attempt_at)
                  .limit(10 * limit + len(busy)))
    if db.obj.for_update:
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        candidates = candidates.for_update(skip_locked=True)
    with db.atomic():
        chosen, taken = [], set(busy)
        for delivery_id, subscription_id in candidates.tuples():
            if subscription_id not in taken and len(chosen) < limit:
                taken.add(subscription_id)
                chosen.append(delivery_id)
        if not chosen:
            return []
        # The claim conditions are checked again: SQLite has no row locks, and another
        # worker's claim may have committed since the rows were read.
        (WebhookDelivery
         .update(claim_token=token, claimed_until=utc_now(lease_seconds()),
                 attempts=WebhookDelivery.attempts + 1)
         .where(WebhookDelivery.id.in_(chosen) & claimable)
         .execute())
    return list(WebhookDelivery.select(WebhookDelivery, WebhookSubscription, Event)
                .join(WebhookSubscription).switch(WebhookDelivery).join(Event)
                .where(WebhookDelivery.claim_token == token))


def renew_claim(delivery):
    """Extend this worker's claim for one attempt; False if the claim was lost meanwhile."""
    # A batch is sent one by one, so the batch's lease may run out before a delivery's turn:
    # renewing right before sending is what keeps two workers from sending one attempt.
    now = utc_now()
    return (WebhookDelivery.update(claimed_until=utc_now(lease_seconds()))
            .where((WebhookDelivery.id == delivery.id)
                   & (WebhookDelivery.claim_token == delivery.claim_token)
                   & (WebhookDelivery.claimed_until >= now))
            .execute()) == 1


def attempt_delivery(delivery):
    """Send one claimed delivery and return the Outcome, whatever goes wrong on the way."""
    subscription = delivery.subscription
    try:
        secret = decrypt_secret(subscription.encrypted_secret)
        return post_event(subscription.url, secret, envelope_schema.dump(delivery.event),
                          delivery.attempts)
    except ValueError as exc:
        return Outcome(None, str(exc), 0)
    except Exception as exc:
        # Recorded on this delivery (retried, then dead-lettered) like any failed attempt.
        log.exception("webhook delivery=%s attempt failed unexpectedly", delivery.id)
        return Outcome(None, f"internal error: {type(exc).__name__}", 0)


def next_state(delivery, outcome):
    """Return the delivery's new status and next attempt time after an outcome."""
    if outcome.delivered:
        return "delivered", delivery.next_attempt_at
    used = delivery.attempts - delivery.attempts_at_redrive
    if outcome.permanent or used >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        return "dead", delivery.next_attempt_at
    base = current_app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    return "pending", utc_now(base * 2 ** (used - 1) * random.uniform(0.75, 1.25))


def record_outcome(delivery, outcome, started_at):
    """Store the attempt and the delivery's new state; None if this worker lost the claim."""
    status, next_attempt_at = next_state(delivery, outcome)
    with db.atomic():
        # Only the worker still holding the claim writes: a late one records nothing.
        kept = (WebhookDelivery
                .update(status=status, next_attempt_at=next_attempt_at, claim_token=None,
                        claimed_until=None, last_status_code=outcome.status_code,
                        last_error=outcome.error,
                        finished_at=None if status == "pending" else utc_now())
                .where((WebhookDelivery.id == delivery.id)
                       & (WebhookDelivery.claim_token == delivery.claim_token))
                .execute())
        if kept:
            WebhookAttempt.create(delivery=delivery.id, attempt=delivery.attempts,
                                  started_at=started_at, duration_ms=outcome.duration_ms,
                                  status_code=outcome.status_code, error=outcome.error)
    if not kept:
        log.warning("webhook delivery=%s attempt=%s: claim lost before its outcome (%s) was "
                    "recorded", delivery.id, delivery.attempts,
                    outcome.status_code or outcome.error)
        return None
    log.info("webhook %s delivery=%s attempt=%s status=%s -> %s", delivery.event.event,
             delivery.id, delivery.attempts, outcome.status_code or outcome.error, status)
    return status


def send_one(app, delivery):
    """Attempt one claimed delivery in this thread, with its own app context and connection."""
    with app.app_context():
        try:
            if renew_claim(delivery):
                started_at = utc_now()
                record_outcome(delivery, attempt_delivery(delivery), started_at)
        except Exception:
            # One delivery's trouble (a database hiccup while recording it) never holds up
            # the others; its claim runs out and it is tried again.
            log.exception("webhook delivery=%s could not be recorded", delivery.id)
        finally:
            db.close()


def deliver_due(limit=None):
    """Claim what is due now and send it concurrently; return how many attempts were made."""
    limit = limit or current_app.config["WEBHOOK_CONCURRENCY"]
    claimed = claim_due(limit)
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=max(1, len(claimed))) as pool:
        list(pool.map(lambda delivery: send_one(app, delivery), claimed))
    return len(claimed)


def run_worker(stop, once=False):
    """Deliver until stop is set (or, with once, until nothing is due or in flight).

    WEBHOOK_CONCURRENCY attempts run at once, each in its own thread; as soon as one ends,
    what is due is claimed again, so a slow receiver never holds up the others.
    """
    app = current_app._get_current_object()
    slots = app.config["WEBHOOK_CONCURRENCY"]
    in_flight = {}
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="webhook") as pool:
        while not stop.is_set():
            claimed = []
            if len(in_flight) < slots:
                try:
                    claimed = claim_due(slots - len(in_flight), frozenset(in_flight.values()))
                except Exception:
                    # A database hiccup must not kill the worker; claims' leases cover it.
                    log.exception("webhook delivery round failed")
                finally:
                    db.close()
            for delivery in claimed:
                in_flight[pool.submit(send_one, app, delivery)] = delivery.subscription_id
            if not in_flight:
                if once:
                    return
                stop.wait(app.config["WEBHOOK_POLL_SECONDS"])
                continue
            done, _ = wait(in_flight, timeout=app.config["WEBHOOK_POLL_SECONDS"],
                           return_when=FIRST_COMPLETED)
            for future in done:
                del in_flight[future]
