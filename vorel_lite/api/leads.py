"""Leads: create (the seed), read, list, update."""
from datetime import datetime, timedelta, timezone

from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_body, load_query
from ..db import db, lock_for_update
from ..events import emit_event
from ..models import Conversation, Lead, format_timestamp, utc_now
from ..openapi.registry import documented
from ..pagination import paginate
from ..schemas.leads import LeadCreate, LeadListQuery, LeadOut, LeadUpdate
from ..uniqueness import create_unique
from . import PREFIX, dump_page, get_owned

bp = Blueprint("leads", __name__, url_prefix=f"{PREFIX}/leads")

create_schema = LeadCreate()
update_schema = LeadUpdate()
list_query = LeadListQuery()
lead_schema = LeadOut()


@bp.post("")
@documented("createLead", "Create a lead", request=LeadCreate, response="Lead", status=201,
            errors=(404, 409),
            description="Strict-create: returns 409 if the conversation already has a lead. "
                        "The schema allows exactly one lead per conversation.",
            success_description="Lead created. Emits `lead.created` (and `lead.qualified` "
                                "when the create-time status is `qualified`).")
@require_scope("leads:write")
def create_lead():
    """Create the one lead of a conversation (strict create)."""
    data = load_body(create_schema)
    conversation = get_owned(Conversation, data.pop("conversation_id"), field="conversation_id")
    now = utc_now()
    with db.atomic():
        lead = create_unique(Lead, {"conversation": conversation.id},
                             "conversation_id: This conversation already has a lead.",
                             tenant=g.tenant_id, created_at=now, updated_at=now, **data)
        body = lead_schema.dump(lead)
        emit_event("lead.created", body)
        if lead.status == "qualified":
            emit_event("lead.qualified", body)
    return body, 201


@bp.get("")
@documented("listLeads", "List leads", query=LeadListQuery, response="LeadPage",
            description="Newest first; `status` and `stale_for_days` filters combine.")
@require_scope("read")
def list_leads():
    """List the tenant's leads, newest first, optionally filtered."""
    args = load_query(list_query)
    query = Lead.select().where(Lead.tenant == g.tenant_id)
    if "status" in args:
        query = query.where(Lead.status == args["status"])
    if "stale_for_days" in args:
        cutoff = format_timestamp(datetime.now(timezone.utc)
                                  - timedelta(days=args["stale_for_days"]))
        query = (query.join(Conversation)
                 .where((Lead.status == "qualified")
                        & (Conversation.last_message_at.is_null()
                           | (Conversation.last_message_at < cutoff))))
    return dump_page(paginate(query, Lead, args["limit"], args.get("cursor")), lead_schema)


@bp.get("/<lead_id>")
@documented("getLead", "Get a lead", response="Lead", errors=(404,))
@require_scope("read")
def get_lead(lead_id):
    """Return one lead."""
    return lead_schema.dump(get_owned(Lead, lead_id))


@bp.patch("/<lead_id>")
@documented("updateLead", "Update a lead", request=LeadUpdate, response="Lead", errors=(404,),
            description="Strict-partial; `attributes` shallow-merges and a key set to null "
                        "is deleted. Emits `lead.updated`, and `lead.qualified` when the "
                        "status moves to `qualified`.")
@require_scope("leads:write")
def update_lead(lead_id):
    """Change some fields of a lead."""
    changes = load_body(update_schema)
    with db.atomic():
        lead = get_owned(Lead, lead_id, query=lock_for_update(Lead.select()))
        was_qualified = lead.status == "qualified"
        lead.apply_changes(changes)
        lead.save()
        body = lead_schema.dump(lead)
        emit_event("lead.updated", body)
        if lead.status == "qualified" and not was_qualified:
            emit_event("lead.qualified", body)
    return body
