"""Recording events in the transaction of the change that causes them."""
from flask import g

from .models import Event


def emit_event(event, data):
    """Record an event for the request's tenant; call it inside the change's db.atomic()."""
    return Event.create(tenant=g.tenant_id, event=event, data=data)
