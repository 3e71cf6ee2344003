"""Caps on what one tenant may have in flight at once in this process (threads, not processes)."""
import contextlib
import threading

from flask import current_app


@contextlib.contextmanager
def tenant_slot(kind, tenant_id, limit):
    """Yield whether the tenant may start one more of kind ("crm-push"...) now: limit at once.

    Work that holds a server thread until a peer answers is capped per tenant, so that one
    tenant's slow peer cannot take every thread, and with them every tenant's requests. The
    count lives in the app, so it holds across the threads of one process, not across processes.
    """
    slots = current_app.extensions.setdefault("vorel_inflight", {"lock": threading.Lock(),
                                                                 "busy": {}})
    key = (kind, tenant_id)
    with slots["lock"]:
        busy = slots["busy"].get(key, 0)
        granted = busy < limit
        if granted:
            slots["busy"][key] = busy + 1
    try:
        yield granted
    finally:
        if granted:
            with slots["lock"]:
                slots["busy"][key] -= 1
                if not slots["busy"][key]:
                    del slots["busy"][key]
