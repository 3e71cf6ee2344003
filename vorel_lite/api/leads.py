"""Leads: create (the seed), read, list, update, hand off to a human."""
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, g

from ..auth import require_scope
from ..body import load_body, load_optional_body, load_query
from ..db import db
from ..events import emit_events
from ..models import (HANDOFF_CHANNELS, Conversation, Handoff, Lead, format_timestamp,
                      utc_now)
from ..openapi.registry import documented
from ..pagination import Pages
from ..schemas.leads import (HandoffCreate, HandoffOut, LeadCreate, LeadListQuery, LeadOut,
                             LeadUpdate)
from ..statements import insert, param, update
from ..uniqueness import create_unique
from . import PREFIX, dump_page, get_owned

bp = Blueprint("leads", __name__, url_prefix=f"{PREFIX}/leads")

create_schema = LeadCreate()
update_schema = LeadUpdate()
list_query = LeadListQuery()
lead_schema = LeadOut()
handoff_create_schema = HandoffCreate()
handoff_schema = HandoffOut()
pages = Pages(
    Lead,
    status=lambda query: query.where(Lead.status == param("status")),
    # Qualified leads whose conversation has had no message since the cutoff.
    stale_before=lambda query: query.join(Conversation).where(
        (Lead.status == "qualified")
        & (Conversation.last_message_at.is_null()
           | (Conversation.last_message_at < param("stale_before")))))


@bp.record_once
def check_handoff_channel(state):
    """Refuse to create an app whose HANDOFF_CHANNEL no handoff could be recorded with."""
    channel = state.app.config["HANDOFF_CHANNEL"]
    if channel not in HANDOFF_CHANNELS:
        raise ValueError(f"HANDOFF_CHANNEL must be one of {', '.join(HANDOFF_CHANNELS)}, "
                         f"not {channel!r}.")


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
    conversation_id = data.pop("conversation_id")
    now = utc_now()
    with db.atomic():
        lead = create_unique(Lead, {"conversation": conversation_id},
                             "conversation_id: This conversation already has a lead.",
                             parent=Lead.conversation, tenant=g.tenant_id, created_at=now,
                             updated_at=now, **data)
        if lead is None:
            # Not the tenant's conversation: the 404 of any id the tenant does not have.
            get_owned(Conversation, conversation_id, field="conversation_id")
        body = lead_schema.dump(lead)
        emit_events(body, "lead.created",
                    *(["lead.qualified"] if lead.status == "qualified" else []))
    return body, 201


@bp.get("")
@documented("listLeads", "List leads", query=LeadListQuery, response="LeadPage",
            description="Newest first; `status` and `stale_for_days` filters combine.")
@require_scope("read")
def list_leads():
    """List the tenant's leads, newest first, optionally filtered."""
    args = load_query(list_query)
    filters = {"status": args["status"]} if "status" in args else {}
    if "stale_for_days" in args:
        filters["stale_before"] = format_timestamp(datetime.now(timezone.utc)
                                                   - timedelta(days=args["stale_for_days"]))
    return dump_page(pages.page(args["limit"], args.get("cursor"), **filters), lead_schema)


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
        lead = get_owned(Lead, lead_id, for_update=True)
        was_qualified = lead.status == "qualified"
        lead.apply_changes(changes)
        update(lead)
        body = lead_schema.dump(lead)
        became_qualified = lead.status == "qualified" and not was_qualified
        emit_events(body, "lead.updated", *(["lead.qualified"] if became_qualified else []))
    return body


@bp.post("/<lead_id>/handoff")
@documented("createHandoff", "Hand a lead's conversation to a human", request=HandoffCreate,
            request_required=False, response="Handoff", status=201, errors=(404,),
            description="Sets the conversation's status to `awaiting_human` and records a "
                        "handoff. `notified_channel` is the operator's configured channel; "
                        "vorel-lite sends no email or Slack message itself (act on the "
                        "`conversation.handoff_requested` event). The body is optional. Not "
                        "idempotent: every call records a new handoff (only a retry with the "
                        "same `Idempotency-Key` gets the first answer again instead).",
            success_description="Handoff recorded. Emits `conversation.handoff_requested`.")
@require_scope("leads:write")
def create_handoff(lead_id):
    """Record a handoff of the lead's conversation to a human operator."""
    data = load_optional_body(handoff_create_schema)
    with db.atomic():
        lead = get_owned(Lead, lead_id)
        conversation = get_owned(Conversation, lead.conversation_id, for_update=True)
        conversation.status = "awaiting_human"
        update(conversation)
        handoff = insert(Handoff, tenant=g.tenant_id, lead=lead, conversation=conversation,
                         notified_channel=current_app.config["HANDOFF_CHANNEL"], **data)
        body = handoff_schema.dump(handoff)
        emit_events(body, "conversation.handoff_requested")
    return body, 201
