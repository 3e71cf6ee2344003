"""/leads: the tenant's leads, newest first, a page at a time, filtered by status."""
from flask import render_template
from flask_login import current_user

from ..api.leads import pages
from ..models import LEAD_STATUSES, Conversation
from .blueprint import bp
from .listing import list_page


def conversation_channels(leads, tenant_id):
    """Return {conversation id: channel} of the leads' conversations (the channel they came by)."""
    ids = [lead.conversation_id for lead in leads]
    return dict(Conversation.select(Conversation.id, Conversation.channel)
                .where((Conversation.tenant == tenant_id) & Conversation.id.in_(ids))
                .tuples())


@bp.get("/leads")
def list_leads():
    """List a page of the tenant's leads, newest first; ?status= filters, ?cursor= pages on."""
    page, status = list_page(pages, LEAD_STATUSES)
    return render_template("console/leads.html", page=page, status=status,
                           statuses=LEAD_STATUSES,
                           channels=conversation_channels(page["data"], current_user.tenant_id))
