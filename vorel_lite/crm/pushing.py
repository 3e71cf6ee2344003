"""Creating a record in the tenant's CRM: one signed POST per idempotency key that succeeds.

The key is claimed under the UNIQUE (tenant_id, idempotency_key) of crm_records before the
POST: concurrent requests with one key push once, the others wait for that push's result. A
success is remembered and answered again; a failure is not (a retry pushes again).
"""
import json
import math
import time

from flask import current_app
from peewee import IntegrityError

from .. import outbound
from ..db import db
from ..errors import BadRequest, Conflict
from ..inflight import tenant_slot
from ..models import CrmConnection, CrmPush, CrmRecord, utc_now
from ..webhooks.secrets import decrypt_secret, sign

# A claim outlives its push by this much, so only a pusher that died loses it.
CLAIM_GRACE_SECONDS = 5
POLL_SECONDS = 0.05
CLAIM_ATTEMPTS = 5


def create_record(tenant_id, object_name, fields, key):
    """Push the record unless a push with key succeeded or is running; return the answer body.

    The answer is {"ok": true, "external_id", "record_url"?} or {"ok": false, "error":
    {"code", "message"}} with code not_configured, crm_rejected, crm_unavailable or
    crm_bad_answer. Raises BadRequest when two fields map to one CRM field.
    """
    remembered = CrmRecord.get_or_none((CrmRecord.tenant == tenant_id)
                                       & (CrmRecord.idempotency_key == key)
                                       & (CrmRecord.state == "succeeded"))
    if remembered is not None:
        return remembered.result
    connection = CrmConnection.get_or_none(CrmConnection.tenant == tenant_id)
    if connection is None:
        return failure("not_configured", "No CRM is connected for this tenant: the operator "
                                         "connects one with `flask crm connect`.")
    body = {"object": object_name, "fields": map_fields(fields, connection.field_maps),
            "idempotency_key": key, "tenant_id": tenant_id}
    timeout = float(current_app.config["CRM_TIMEOUT_SECONDS"])
    for _ in range(CLAIM_ATTEMPTS):
        record, holder = claim(tenant_id, key, timeout)
        if record is not None:
            return push_claimed(record, connection, body, timeout)
        if holder.state == "succeeded":
            return holder.result
        result = wait_for(holder)
        if result is not None:
            return result
    raise Conflict("idempotency_key: another request with this key is being pushed; retry.")


def map_fields(fields, maps):
    """Rename the fields that have a map; refuse two fields landing on one CRM field."""
    mapped, origin = {}, {}
    for name, value in fields.items():
        target = maps.get(name, name)
        if target in mapped:
            message = (f"{origin[target]!r} and {name!r} both become the CRM field "
                       f"{target!r} under this tenant's field maps.")
            raise BadRequest(f"fields: {message}", fields={"fields": [message]})
        mapped[target], origin[target] = value, name
    return mapped


def claim(tenant_id, key, timeout):
    """Insert the key's claim and return (row, None), or (None, the row holding the key)."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with db.atomic():
                return CrmRecord.create(tenant=tenant_id, idempotency_key=key, state="pushing",
                                        claimed_until=utc_now(timeout + CLAIM_GRACE_SECONDS)), None
        except IntegrityError:
            holder = CrmRecord.get_or_none((CrmRecord.tenant == tenant_id)
                                           & (CrmRecord.idempotency_key == key))
        if holder is None:
            continue
        if holder.state == "failed" or (holder.state == "pushing"
                                        and holder.claimed_until < utc_now()):
            # A failure is not remembered and a dead pusher's claim is void: of the requests
            # replacing it, the insert above picks one.
            (CrmRecord.delete()
             .where((CrmRecord.id == holder.id)
                    & ((CrmRecord.state == "failed") | (CrmRecord.claimed_until < utc_now())))
             .execute())
            continue
        return None, holder
    return None, holder


def wait_for(holder):
    """Wait for another request's push; return its answer, or None if its claim went away."""
    while True:
        row = CrmRecord.get_or_none(CrmRecord.id == holder.id)
        if row is None:
            return None
        if row.state != "pushing":
            return row.result
        if row.claimed_until < utc_now():
            return None
        time.sleep(POLL_SECONDS)


def push_claimed(record, connection, body, timeout):
    """Make the one POST of a claimed key (within the tenant's share), log it, settle it."""
    # A push holds a server thread until its CRM answers (CRM_TIMEOUT_SECONDS at most).
    limit = current_app.config["CRM_PUSHES_PER_TENANT"]
    with tenant_slot("crm-push", record.tenant_id, limit) as granted:
        if granted:
            return push_now(record, connection, body, timeout)
    settle(record, None)
    return failure("crm_unavailable", f"This tenant already has {limit} CRM pushes in flight "
                                      "on this server: retry shortly.")


def push_now(record, connection, body, timeout):
    """Make the one POST of a claimed key, log it, and settle the claim with its answer."""
    try:
        secret = decrypt_secret(connection.encrypted_secret)
    except ValueError:
        settle(record, None)
        return failure("not_configured", "The CRM connection's secret cannot be decrypted "
                                         "(SECRET_KEY changed): the operator must connect "
                                         "again.")
    try:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        answer = outbound.post(connection.url, data, {
            "Content-Type": "application/json",
            "X-Webhook-Signature": sign(secret, data),
            "Idempotency-Key": body["idempotency_key"],
        }, timeout, agent="crm", private_targets=current_app.config["WEBHOOK_PRIVATE_TARGETS"])
        result = judge(answer)
    except BaseException:
        settle(record, None)
        raise
    with db.atomic():
        CrmPush.create(tenant=record.tenant_id, object=body["object"],
                       idempotency_key=body["idempotency_key"],
                       outcome="ok" if result["ok"] else result["error"]["code"],
                       status_code=answer.status, duration_ms=answer.duration_ms,
                       error=None if result["ok"] else result["error"]["message"])
        settle(record, result)
    return result


def settle(record, result):
    """Remember a success; mark a failure so waiters read it and the next request pushes."""
    if result is None:
        CrmRecord.delete().where(CrmRecord.id == record.id).execute()
        return
    (CrmRecord.update(state="succeeded" if result["ok"] else "failed", result=result)
     .where(CrmRecord.id == record.id)
     .execute())


def judge(answer):
    """Turn what the CRM answered into the API's answer body."""
    if answer.failure in ("timeout", "unreachable"):
        return failure("crm_unavailable", f"The CRM could not be reached: {answer.error}.")
    if answer.failure is not None:
        return failure("crm_bad_answer", f"The CRM's answer was unusable: {answer.error}.")
    status, said = answer.status, outbound.excerpt(answer.body)
    if 200 <= status < 300:
        return success(status, answer.body)
    if 300 <= status < 400:
        return failure("crm_bad_answer", f"The CRM answered HTTP {status}, a redirect, which "
                                         "is not followed.")
    if status in (408, 429) or status >= 500:
        return failure("crm_unavailable", f"The CRM answered HTTP {status}: {said}")
    if 400 <= status < 500:
        return failure("crm_rejected", f"The CRM refused the record with HTTP {status}: {said}")
    return failure("crm_bad_answer", f"The CRM answered HTTP {status}.")


def success(status, raw):
    """Read a 2xx answer: a JSON object with an id (string or number), maybe a url."""
    try:
        document = json.loads(raw, parse_constant=reject_constant)
    except ValueError:
        document = None
    external_id = document.get("id") if isinstance(document, dict) else None
    if not usable_id(external_id):
        return failure("crm_bad_answer", f"The CRM answered HTTP {status} without a JSON object "
                                         f"holding an id: {outbound.excerpt(raw)}")
    result = {"ok": True, "external_id": external_id if isinstance(external_id, str)
              else json.dumps(external_id)}
    if is_http_url(document.get("url")):
        result["record_url"] = document["url"]
    return result


def is_http_url(value):
    """Tell whether a CRM's record url is an http(s) URL (no javascript: for the client)."""
    try:
        outbound.check_url(value)
    except (TypeError, ValueError):
        return False
    return True


def usable_id(value):
    """Tell whether a CRM's id is a non-empty string or a finite number (not a boolean)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value != ""
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def failure(code, message):
    """Return the answer body of a push that did not create a record."""
    return {"ok": False, "error": {"code": code, "message": message}}
