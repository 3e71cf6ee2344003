"""The delivery worker: claim due deliveries atomically, send them, record every attempt."""
import logging
import random
from datetime import datetime, timedelta, timezone

from flask import current_app

from ..db import db
from ..models import (Event, WebhookAttempt, WebhookDelivery, WebhookSubscription,
                      format_timestamp, new_id)
from ..schemas.events import EventOut
from .secrets import decrypt_secret
from .sending import Outcome, post_event

log = logging.getLogger("vorel_lite.webhooks")
envelope_schema = EventOut()


def _at(seconds_from_now):
    return format_timestamp(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now))


def lease_seconds():
    """Return how long a claim lasts: longer than any attempt can take."""
    # An attempt ends by WEBHOOK_TIMEOUT_SECONDS (a deadline for all of it, outbound.py);
    # the rest is room for recording it on a busy database.
    return 3 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 5


def claim_due(limit):
    """Claim up to limit due deliveries for this worker alone; return them with their rows."""
    now, token = _at(0), new_id()
    claimable = ((WebhookDelivery.status == "pending")
                 & (WebhookDelivery.next_attempt_at <= now)
                 & (WebhookDelivery.claimed_until.is_null()
                    | (WebhookDelivery.claimed_until < now)))
    due = (WebhookDelivery.select(WebhookDelivery.id).where(claimable)
           .order_by(WebhookDelivery.next_attempt_at).limit(limit))
    with db.atomic():
        # The claim conditions are repeated outside the subquery so that a database which
        # re-checks rows after waiting for a lock (PostgreSQL) skips rows claimed meanwhile.
        (WebhookDelivery
         .update(claim_token=token, claimed_until=_at(lease_seconds()),
                 attempts=WebhookDelivery.attempts + 1)
         .where(WebhookDelivery.id.in_(due) & claimable)
         .execute())
    return list(WebhookDelivery.select(WebhookDelivery, WebhookSubscription, Event)
                .join(WebhookSubscription).switch(WebhookDelivery).join(Event)
                .where(WebhookDelivery.claim_token == token))


def renew_claim(delivery):
    """Extend this worker's claim for one attempt; False if the claim was lost meanwhile."""
    # A batch is sent one by one, so the batch's lease may run out before a delivery's turn:
    # renewing right before sending is what keeps two workers from sending one attempt.
    now = _at(0)
    return (WebhookDelivery.update(claimed_until=_at(lease_seconds()))
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
    return "pending", _at(base * 2 ** (used - 1) * random.uniform(0.75, 1.25))


def record_outcome(delivery, outcome, started_at):
    """Store the attempt and the delivery's new state; None if this worker lost the claim."""
    status, next_attempt_at = next_state(delivery, outcome)
    with db.atomic():
        # Only the worker still holding the claim writes: a late one records nothing.
        kept = (WebhookDelivery
                .update(status=status, next_attempt_at=next_attempt_at, claim_token=None,
                        claimed_until=None, last_status_code=outcome.status_code,
                        last_error=outcome.error,
                        finished_at=None if status == "pending" else _at(0))
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


def deliver_due(limit=20):
    """Claim and send what is due now; return how many attempts were made."""
    claimed = claim_due(limit)
    for delivery in claimed:
        try:
            if renew_claim(delivery):
                started_at = _at(0)
                record_outcome(delivery, attempt_delivery(delivery), started_at)
        except Exception:
            # One delivery's trouble (a database hiccup while recording it) never holds up
            # the others; its claim runs out and it is tried again.
            log.exception("webhook delivery=%s could not be recorded", delivery.id)
    return len(claimed)


def run_worker(stop, once=False):
    """Deliver until stop is set (or, with once, until nothing is due)."""
    while not stop.is_set():
        try:
            made = deliver_due()
        except Exception:
            # A database hiccup must not kill the worker; the claim's lease covers the rest.
            log.exception("webhook delivery round failed")
            made = 0
        finally:
            db.close()
        if made == 0:
            if once:
                return
            stop.wait(current_app.config["WEBHOOK_POLL_SECONDS"])
