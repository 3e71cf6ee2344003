"""Recording events in the transaction of the change that causes them."""
from flask import g

from .models import Event
from .statements import insert
from .webhooks.fanout import fan_out


def emit_events(data, *names):
    """Record one event per name with data, and their webhooks, in the change's transaction."""
    rows = [insert(Event, tenant=g.tenant_id, event=name, data=data) for name in names]
    fan_out(*rows)
    return rows
