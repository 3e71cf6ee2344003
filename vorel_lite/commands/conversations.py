"""`flask conversations ...`: operator actions on conversations."""
import click
from flask.cli import AppGroup

from ..db import db, lock_for_update
from ..events import emit_events
from ..models import Conversation
from ..schemas.conversations import ConversationOut
from ..schemas.fields import is_canonical_uuid
from ..statements import update

conversations = AppGroup("conversations", help="Operator actions on conversations.")
conversation_schema = ConversationOut()


def close_conversation(conversation_id, *, tenant_id=None):
    """Close a conversation and emit conversation.closed; return (row, whether it changed).

    tenant_id: when given, another tenant's conversation is as unknown as a missing one.
    Raises LookupError for an unknown id. Closing a closed conversation changes nothing.
    """
    with db.atomic():
        conversation = None
        if is_canonical_uuid(conversation_id):
            query = Conversation.select().where(Conversation.id == conversation_id.lower())
            if tenant_id is not None:
                query = query.where(Conversation.tenant == tenant_id)
            conversation = lock_for_update(query).first()
        if conversation is None:
            raise LookupError(f"no conversation {conversation_id!r}")
        if conversation.status == "closed":
            return conversation, False
        conversation.status = "closed"
        update(conversation)
        emit_events(conversation_schema.dump(conversation), "conversation.closed",
                    tenant_id=conversation.tenant_id)
    return conversation, True


@conversations.command("close")
@click.argument("conversation_id")
def close(conversation_id):
    """Close a conversation (status closed) and emit conversation.closed."""
    try:
        conversation, changed = close_conversation(conversation_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Closed {conversation.id}." if changed
               else f"{conversation.id} was already closed; nothing changed.", err=True)
