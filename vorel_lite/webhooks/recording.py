"""Recording attempts: each delivery's new state, written only while the claim is still ours."""
import functools
import logging
import random

from flask import current_app

from ..db import db, lock_for_update
from ..models import WebhookAttempt, WebhookDelivery, new_id, utc_now
from ..statements import Statement, param
from .claims import attempt_number, release

log = logging.getLogger("vorel_lite.webhooks")


def next_state(delivery, outcome):
    """Return the delivery's new status and next attempt time after an outcome."""
    if outcome.delivered:
        return "delivered", delivery.next_attempt_at
    used = attempt_number(delivery) - delivery.attempts_at_redrive
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
        holders = dict(holders_statement(len(results)).execute(
            numbered("id", [delivery.id for delivery, _, _ in results])).fetchall()
        ) if results else {}
        recorded, changes, attempt_rows = [], {}, []
        for delivery, outcome, started_at in results:
            if holders.get(delivery.id) != delivery.claim_token:
                recorded.append(None)
                continue
            status, next_attempt_at = next_state(delivery, outcome)
            recorded.append(status)
            change = {"status": status, "last_status_code": outcome.status_code,
                      "last_error": outcome.error,
                      "finished_at": None if status == "pending" else finished_at}
            if status == "pending":
                change["next_attempt_at"] = next_attempt_at
            # Deliveries getting the same change (all those delivered with a 200, say) are
            # written by one statement.
            changes.setdefault(tuple(change.items()), []).append(delivery.id)
            attempt_rows.append({
                "id": new_id(), "delivery": delivery.id, "attempt": attempt_number(delivery),
                "started_at": started_at, "duration_ms": outcome.duration_ms,
                "status_code": outcome.status_code, "error": outcome.error})
        for change, ids in changes.items():
            change = dict(change)
            change_statement(len(ids), "next_attempt_at" in change).execute(
                {**change, **numbered("id", ids)})
        if attempt_rows:
            attempts_statement(len(attempt_rows)).execute(
                {f"{name}{number}": value for number, row in enumerate(attempt_rows)
                 for name, value in row.items()})
        if unsent:
            release(unsent)
    for (delivery, outcome, _), status in zip(results, recorded):
        log_outcome(delivery, outcome, status)
    return recorded


def numbered(name, values):
    """Return the values of holes name0, name1, ...: {name0: values[0], ...}."""
    return {f"{name}{number}": value for number, value in enumerate(values)}


def holes(name, count):
    """Return count holes named name0, name1, ..."""
    return [param(f"{name}{number}") for number in range(count)]


# Compiled once per size (a group's is at most WEBHOOK_RECORD_EVERY, or what 50 ms of sending
# allows): peewee writing their SQL cost several times what the database takes to run them.
@functools.cache
def holders_statement(count):
    """The SELECT of count deliveries' claim tokens, by id, locking their rows where it can."""
    return Statement(lambda: lock_for_update(
        WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.claim_token)
        .where(WebhookDelivery.id.in_(holes("id", count)))))


@functools.cache
def change_statement(count, pending):
    """The UPDATE of count deliveries, by id, to one state after an attempt of each counted;
    pending: with a next_attempt_at."""
    def build():
        columns = {"status": param("status"), "claim_token": None, "claimed_until": None,
                   "claims": 0, "attempts": WebhookDelivery.attempts + 1,
                   "last_status_code": param("last_status_code"),
                   "last_error": param("last_error"), "finished_at": param("finished_at")}
        if pending:
            columns["next_attempt_at"] = param("next_attempt_at")
        return WebhookDelivery.update(columns).where(WebhookDelivery.id.in_(holes("id", count)))
    return Statement(build)


@functools.cache
def attempts_statement(count):
    """The INSERT of count attempts."""
    names = [field.name for field in WebhookAttempt._meta.sorted_fields]
    return Statement(lambda: WebhookAttempt.insert_many(
        [{name: param(f"{name}{number}") for name in names} for number in range(count)]
    ).as_rowcount())


def record_outcome(delivery, outcome, started_at):
    """Store one attempt and its delivery's new state; None if this worker lost the claim."""
    return record_outcomes([(delivery, outcome, started_at)])[0]


def log_outcome(delivery, outcome, status):
    """Log what was recorded of an attempt, or that nothing was."""
    if status is None:
        log.warning("webhook delivery=%s attempt=%s: claim lost before its outcome (%s) was "
                    "recorded", delivery.id, attempt_number(delivery),
                    outcome.status_code or outcome.error)
    else:
        log.info("webhook %s delivery=%s attempt=%s status=%s -> %s", delivery.event.event,
                 delivery.id, attempt_number(delivery), outcome.status_code or outcome.error,
                 status)
