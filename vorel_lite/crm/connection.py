"""A tenant's CRM connection: its URL, field maps and signing secret (shown once)."""
from flask import current_app

from ..models import CrmConnection, CrmPush, CrmRecord, utc_now
from ..outbound import check_target
from ..webhooks.secrets import encrypt_secret, generate_secret


def parse_maps(pairs):
    """Turn ["VOREL_KEY=CRM_KEY", ...] into {vorel key: CRM key}, or raise ValueError."""
    maps = {}
    for pair in pairs:
        source, separator, target = pair.partition("=")
        if not separator or not source or not target:
            raise ValueError(f"a map is VOREL_KEY=CRM_KEY, not {pair!r}")
        if source in maps:
            raise ValueError(f"{source!r} is mapped twice")
        maps[source] = target
    targets = list(maps.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise ValueError(f"several keys map to {', '.join(map(repr, doubled))}")
    return maps


def connect(tenant, url, maps):
    """Store (or replace) the tenant's connection; return (row, secret), the secret shown once.

    Nothing is sent to the URL. Connecting again replaces the URL, the maps and the secret.
    Raises ValueError for a URL check_target refuses under WEBHOOK_PRIVATE_TARGETS.
    """
    check_target(url, current_app.config["WEBHOOK_PRIVATE_TARGETS"])
    secret = generate_secret()
    values = {"url": url, "field_maps": maps, "encrypted_secret": encrypt_secret(secret),
              "secret_prefix": secret[:10], "created_at": utc_now()}
    # One statement: two operators connecting at once leave one connection, never an error.
    (CrmConnection.insert(tenant=tenant, **values)
     .on_conflict(conflict_target=[CrmConnection.tenant],
                  update={getattr(CrmConnection, name): value for name, value in values.items()})
     .execute())
    return CrmConnection.get(CrmConnection.tenant == tenant), secret


def disconnect(tenant):
    """Delete the tenant's connection; return False if there was none."""
    return CrmConnection.delete().where(CrmConnection.tenant == tenant).execute() > 0


def push_counts(tenant):
    """Return {"ok": n, "failed": n, "remembered": n}: pushes made, and successes kept."""
    pushes = CrmPush.select().where(CrmPush.tenant == tenant)
    return {"ok": pushes.where(CrmPush.outcome == "ok").count(),
            "failed": pushes.where(CrmPush.outcome != "ok").count(),
            "remembered": CrmRecord.select().where((CrmRecord.tenant == tenant)
                                                   & (CrmRecord.state == "succeeded")).count()}
