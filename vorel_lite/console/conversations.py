"""/conversations: the tenant's conversations a page at a time; one's messages and handoffs;
closing one (the CLI's close_conversation, so conversation.closed is emitted once)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..commands import conversations as commands
from ..models import CONVERSATION_STATUSES, Conversation, Handoff, Lead, Message
from ..pagination import Pages
from ..statements import param
from .blueprint import bp
from .forms import ConfirmForm
from .listing import list_page
from .rows import row_id, tenant_row

pages = Pages(Conversation,
              status=lambda query: query.where(Conversation.status == param("status")))


NO_CONVERSATION = "No such conversation."


def transcript(conversation):
    """Return the conversation's messages in sequence order."""
    return list(Message.select()
                .where((Message.tenant == conversation.tenant_id)
                       & (Message.conversation == conversation.id))
                .order_by(Message.sequence_number))


def handoffs(conversation):
    """Return the conversation's handoffs to a human, oldest first."""
    return list(Handoff.select()
                .where((Handoff.tenant == conversation.tenant_id)
                       & (Handoff.conversation == conversation.id))
                .order_by(Handoff.created_at, Handoff.id))


def conversation_lead(conversation):
    """Return the conversation's lead, or None."""
    return Lead.get_or_none((Lead.tenant == conversation.tenant_id)
                            & (Lead.conversation == conversation.id))


@bp.get("/conversations")
def list_conversations():
    """List a page of the tenant's conversations, newest first; ?status= and ?cursor=."""
    page, status = list_page(pages, CONVERSATION_STATUSES)
    return render_template("console/conversations.html", page=page, status=status,
                           statuses=CONVERSATION_STATUSES)


@bp.get("/conversations/<conversation_id>")
def show_conversation(conversation_id):
    """Show a conversation: its fields, lead, messages in order, handoffs; a close button."""
    conversation = tenant_row(Conversation, conversation_id, NO_CONVERSATION)
    return render_template("console/conversation.html", conversation=conversation,
                           lead=conversation_lead(conversation),
                           messages=transcript(conversation), handoffs=handoffs(conversation),
                           form=ConfirmForm())


@bp.post("/conversations/<conversation_id>/close")
def close_conversation(conversation_id):
    """Close one of the tenant's conversations (emits conversation.closed); 303 to its page."""
    try:
        conversation, changed = commands.close_conversation(
            row_id(conversation_id, NO_CONVERSATION), tenant_id=current_user.tenant_id)
    except LookupError:
        abort(404, NO_CONVERSATION)
    flash("Closed the conversation." if changed
          else "This conversation was already closed; nothing changed.",
          "success" if changed else "info")
    return redirect(url_for("console.show_conversation", conversation_id=conversation.id), 303)
