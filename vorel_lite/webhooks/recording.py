"""Recording attempts: each delivery's new state, written only while the claim is still ours."""
import logging
import random

from flask import current_app

from ..db import db, lock_for_update
from ..models import WebhookAttempt, WebhookDelivery, new_id, utc_now
from .claims import release

log = logging.getLogger("vorel_lite.webhooks")


def next_state(delivery, outcome):
    """Return the delivery's new status and next attempt time after an outcome."""
    if outcome.delivered:
        return "delivered", delivery.next_attempt_at
    used = delivery.attempts - delivery.attempts_at_redrive
    if outcome.permanent or used >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        return "dead", delivery.next_attempt_at
    base = current_app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    return "pending", utc_now(base * 2 ** (used - 1) * random.uniform(0.75, 1.25))


def record_outcomes(results, unsent=()):
    """Store attempts and their deliveries' new states in one transaction, and give back the
    unsent deliveries; return each result's new status, or None where the claim was lost.

    results: (delivery, Outcome, started_at) of attempts made under this worker's claims.
    """
    finished_at = utc_now()
    with db.atomic():
        # Only the worker still holding a claim writes: a late one records nothing. The rows
        # stay locked until commit (FOR UPDATE; SQLite's BEGIN IMMEDIATE locks all writes).
        holders = dict(lock_for_update(
            WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.claim_token)
            .where(WebhookDelivery.id.in_([delivery.id for delivery, _, _ in results])))
            .tuples()) if results else {}
        recorded, changes, attempt_rows = [], {}, []
        for delivery, outcome, started_at in results:
            if holders.get(delivery.id) != delivery.claim_token:
                recorded.append(None)
                continue
            status, next_attempt_at = next_state(delivery, outcome)
            recorded.append(status)
            change = {"status": status, "claim_token": None, "claimed_until": None,
                      "last_status_code": outcome.status_code, "last_error": outcome.error,
                      "finished_at": None if status == "pending" else finished_at}
            if status == "pending":
                change["next_attempt_at"] = next_attempt_at
            # Deliveries getting the same change (all those delivered with a 200, say) are
            # written by one statement.
            changes.setdefault(tuple(change.items()), []).append(delivery.id)
            attempt_rows.append({
                "id": new_id(), "delivery": delivery.id, "attempt": delivery.attempts,
                "started_at": started_at, "duration_ms": outcome.duration_ms,
                "status_code": outcome.status_code, "error": outcome.error})
        for change, ids in changes.items():
            WebhookDelivery.update(dict(change)).where(WebhookDelivery.id.in_(ids)).execute()
        if attempt_rows:
            WebhookAttempt.insert_many(attempt_rows).execute()
        if unsent:
            release(unsent)
    for (delivery, outcome, _), status in zip(results, recorded):
        log_outcome(delivery, outcome, status)
    return recorded


def record_outcome(delivery, outcome, started_at):
    """Store one attempt and its delivery's new state; None if this worker lost the claim."""
    return record_outcomes([(delivery, outcome, started_at)])[0]


def log_outcome(delivery, outcome, status):
    """Log what was recorded of an attempt, or that nothing was."""
    if status is None:
        log.warning("webhook delivery=%s attempt=%s: claim lost before its outcome (%s) was "
                    "recorded", delivery.id, delivery.attempts,
                    outcome.status_code or outcome.error)
    else:
        log.info("webhook %s delivery=%s attempt=%s status=%s -> %s", delivery.event.event,
                 delivery.id, delivery.attempts, outcome.status_code or outcome.error, status)
