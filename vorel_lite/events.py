"""Recording events in the transaction of the change that causes them."""
from flask import g

from .models import Event
from .statements import insert
from .webhooks.fanout import fan_out


def emit_event(event, data):
    """Record an event and queue its webhooks; call it inside the change's db.atomic()."""
    row = insert(Event, tenant=g.tenant_id, event=event, data=data)
    fan_out(row)
    return row
