"""Events: what the tenant's writes caused (a vorel-lite extension)."""
from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_query
from ..models import Event
from ..openapi.registry import documented
from ..pagination import paginate
from ..schemas.events import EventListQuery, EventOut
from . import PREFIX, dump_page

bp = Blueprint("events", __name__, url_prefix=f"{PREFIX}/events")

list_query = EventListQuery()
event_schema = EventOut()


@bp.get("")
@documented("listEvents", "List events", query=EventListQuery, response="EventPage",
            description="The tenant's events, newest first (vorel-lite extension).")
@require_scope("read")
def list_events():
    """List the tenant's events, newest first, optionally of one type."""
    args = load_query(list_query)
    query = Event.select().where(Event.tenant == g.tenant_id)
    if "event" in args:
        query = query.where(Event.event == args["event"])
    return dump_page(paginate(query, Event, args["limit"], args.get("cursor")), event_schema)
