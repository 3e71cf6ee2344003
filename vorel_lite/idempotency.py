"""Idempotent retries: a POST with an Idempotency-Key runs once; its retries get its answer."""
import hashlib
import json
import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import current_app, g, request
from peewee import DatabaseError, IntegrityError

from .auth import check_scope, required_scope
from .context import current_request, request_globals
from .db import db
from .errors import BadRequest, Conflict
from .models import IdempotencyKey, format_timestamp

log = logging.getLogger("vorel_lite.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
CLEANUP_INTERVAL = 60  # seconds between two deletions of expired keys, per app and process
CLEANUP_BATCH = 1000
CLAIM_ATTEMPTS = 3
# A claim still unanswered after this long belongs to a process that died mid-request (a
# live one answers within the database's busy timeout): the key is free again.
ABANDONED_AFTER = timedelta(minutes=2)

INVALID = f"{HEADER}: must be 1 to 255 printable ASCII characters."
REUSED = (f"{HEADER}: this key was already used for a different request (method, path or "
          "body); use a new key for a new request.")
IN_PROGRESS = (f"{HEADER}: the first request with this key is still in progress; retry "
               "later.")


def init_app(app):
    """Register the hooks; they must run after authentication and the rate limiter."""
    app.extensions["vorel_idempotency"] = {"lock": threading.Lock(),
                                           "next_cleanup": float("-inf")}
    app.before_request(claim_or_replay)
    app.after_request(store_answer)
    app.teardown_request(release_unfinished)


def claim_or_replay():
    """Claim the request's key before the view runs, or answer from the key's first request."""
    request = current_request()
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None or g.get("api_key") is None:
        return None
    if not VALID_KEY.fullmatch(key):
        raise BadRequest(INVALID, fields={HEADER: [INVALID.removeprefix(f"{HEADER}: ")]})
    # A key without the scope neither runs the request nor hears another key's answer.
    scope = required_scope()
    if scope is not None:
        check_scope(scope)
    fingerprint = fingerprint_request()
    delete_expired_when_due()
    claimed, existing = claim(g.api_key.tenant_id, key, fingerprint)
    if claimed is not None:
        g.idempotency_claim = claimed.id
        return None
    if existing.fingerprint != fingerprint:
        raise Conflict(REUSED)
    if existing.status_code is None:
        raise Conflict(IN_PROGRESS)
    response = current_app.response_class(existing.response_body, status=existing.status_code,
                                          mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def fingerprint_request():
    """Return the sha256 of the request's method, path and raw body bytes."""
    digest = hashlib.sha256(json.dumps([request.method, request.path]).encode("utf-8"))
    digest.update(b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def expiry_cutoff():
    """Return the creation time before which a key has expired."""
    ttl = timedelta(hours=float(current_app.config["IDEMPOTENCY_TTL_HOURS"]))
    return format_timestamp(datetime.now(timezone.utc) - ttl)


def replaceable():
    """Select keys that count as absent: expired, or claimed by a request that died."""
    abandoned_before = format_timestamp(datetime.now(timezone.utc) - ABANDONED_AFTER)
    return ((IdempotencyKey.created_at < expiry_cutoff())
            | (IdempotencyKey.status_code.is_null()
               & (IdempotencyKey.created_at < abandoned_before)))


def claim(tenant_id, key, fingerprint):
    """Insert the key's row and return (row, None), or (None, the live row holding the key)."""
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        try:
            # The UNIQUE constraint decides who runs: no check-then-insert race.
            with db.atomic():
                return IdempotencyKey.create(tenant=tenant_id, idempotency_key=key,
                                             fingerprint=fingerprint), None
        except IntegrityError:
            existing = IdempotencyKey.get_or_none((IdempotencyKey.tenant == tenant_id)
                                                  & (IdempotencyKey.idempotency_key == key))
            if existing is None and attempt == CLAIM_ATTEMPTS:
                raise
        if existing is None:
            continue  # its holder gave it back (a 5xx) in the meantime: claim it again
        # Replace it if it counts as absent; of several requests doing so, the insert picks one.
        replaced = (IdempotencyKey.delete()
                    .where((IdempotencyKey.id == existing.id) & replaceable())
                    .execute())
        if not replaced:
            return None, existing
    raise Conflict(IN_PROGRESS)


def delete_expired_when_due():
    """Delete a bounded batch of expired keys, at most once a CLEANUP_INTERVAL per process."""
    state = current_app.extensions["vorel_idempotency"]
    now = time.monotonic()
    with state["lock"]:
        if now < state["next_cleanup"]:
            return
        state["next_cleanup"] = now + CLEANUP_INTERVAL
    expired = (IdempotencyKey.select(IdempotencyKey.id)
               .where(replaceable())
               .order_by(IdempotencyKey.created_at)
               .limit(CLEANUP_BATCH))
    with db.atomic():
        IdempotencyKey.delete().where(IdempotencyKey.id.in_(expired)).execute()


def forget_answer():
    """Keep this request's answer from being stored: its retry must run again."""
    g.idempotency_forget = True


def store_answer(response):
    """Keep the answer of a request that ran; give the key back otherwise, so a retry runs.

    Stripe's rule: a request refused before it ran (its body or query failed to load: 400,
    413, 415) is not remembered; neither is a 5xx, a 429, or an answer its view asked to
    forget (a failed CRM push). What a request that ran found (a 404 for a linked id, a 409)
    is its answer.
    """
    state = request_globals()
    claim_id = state.get("idempotency_claim")
    if claim_id is None:
        return response
    if (not state.get("request_ran") or state.get("idempotency_forget")
            or response.status_code >= 500 or response.status_code == 429):
        release(claim_id)
    else:
        with db.atomic():
            (IdempotencyKey.update(status_code=response.status_code,
                                   response_body=response.get_data(as_text=True))
             .where(IdempotencyKey.id == claim_id)
             .execute())
    state.idempotency_claim = None
    return response


def release(claim_id):
    """Delete a claimed key's row."""
    IdempotencyKey.delete().where(IdempotencyKey.id == claim_id).execute()


def release_unfinished(exc=None):
    """Give back a key whose answer was never stored, so it is not 'in progress' for a day."""
    state = request_globals()
    claim_id = state.get("idempotency_claim")
    if claim_id is None:
        return
    state.idempotency_claim = None
    try:
        release(claim_id)
    except DatabaseError:
        log.exception("could not release idempotency key row %s, request_id=%s",
                      claim_id, state.get("request_id"))
