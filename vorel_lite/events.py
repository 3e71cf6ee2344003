"""Recording events in the transaction of the change that causes them."""
from flask import g

from .models import Event
from .statements import insert
from .webhooks.fanout import fan_out


def emit_events(data, *names, tenant_id=None):
    """Record one event per name with data, and their webhooks, in the change's transaction.

    tenant_id: the tenant whose change it is; by default the request's.
    """
    tenant_id = tenant_id or g.tenant_id
    rows = [insert(Event, tenant=tenant_id, event=name, data=data) for name in names]
    fan_out(*rows)
    return rows
