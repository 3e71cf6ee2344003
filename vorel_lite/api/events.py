"""Events: what the tenant's writes caused (a vorel-lite extension)."""
from flask import Blueprint

from ..auth import require_scope
from ..body import load_query
from ..models import Event
from ..openapi.registry import documented
from ..pagination import Pages
from ..schemas.events import EventListQuery, EventOut
from ..statements import param
from . import PREFIX, dump_page

bp = Blueprint("events", __name__, url_prefix=f"{PREFIX}/events")

list_query = EventListQuery()
event_schema = EventOut()
pages = Pages(Event, event=lambda query: query.where(Event.event == param("event")))


@bp.get("")
@documented("listEvents", "List events", query=EventListQuery, response="EventPage",
            description="The tenant's events, newest first (vorel-lite extension).")
@require_scope("read")
def list_events():
    """List the tenant's events, newest first, optionally of one type."""
    args = load_query(list_query)
    filters = {"event": args["event"]} if "event" in args else {}
    return dump_page(pages.page(args["limit"], args.get("cursor"), **filters), event_schema)
