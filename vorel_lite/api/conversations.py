"""Conversations: create, read, list, update, send a message."""
from flask import Blueprint, g
from peewee import fn

from ..auth import require_scope
from ..body import load_body, load_query
from ..db import db
from ..events import emit_events
from ..models import Conversation, Message, utc_now
from ..openapi.registry import documented
from ..pagination import Pages
from ..schemas.common import PageQuery
from ..schemas.conversations import (ConversationCreate, ConversationOut, ConversationUpdate,
                                     MessageSend, SendResultOut)
from ..statements import Statement, insert, param, update
from ..uniqueness import create_unique
from . import PREFIX, dump_page, get_owned

bp = Blueprint("conversations", __name__, url_prefix=f"{PREFIX}/conversations")

create_schema = ConversationCreate()
update_schema = ConversationUpdate()
page_query = PageQuery()
conversation_schema = ConversationOut()
send_schema = MessageSend()
send_result_schema = SendResultOut()
pages = Pages(Conversation)
LAST_SEQUENCE_NUMBER = Statement(lambda: Message.select(fn.MAX(Message.sequence_number))
                                 .where(Message.conversation == param("conversation")))


@bp.post("")
@documented("createConversation", "Create a conversation", request=ConversationCreate,
            response="Conversation", status=201, errors=(409,),
            description="Strict-create: 409 if a conversation already exists for the "
                        "(channel, customer_identifier) pair. Emits `conversation.created`.")
@require_scope("conversations:write")
def create_conversation():
    """Create a conversation, once per (channel, customer_identifier)."""
    data = load_body(create_schema)
    natural_key = {"tenant": g.tenant_id, "channel": data.pop("channel"),
                   "customer_identifier": data.pop("customer_identifier")}
    with db.atomic():
        conversation = create_unique(
            Conversation, natural_key,
            "A conversation already exists for this channel and customer_identifier.", **data)
        body = conversation_schema.dump(conversation)
        emit_events(body, "conversation.created")
    return body, 201


@bp.get("")
@documented("listConversations", "List conversations", query=PageQuery,
            response="ConversationPage", description="Newest first.")
@require_scope("read")
def list_conversations():
    """List the tenant's conversations, newest first."""
    args = load_query(page_query)
    return dump_page(pages.page(args["limit"], args.get("cursor")), conversation_schema)


@bp.get("/<conversation_id>")
@documented("getConversation", "Get a conversation", response="Conversation", errors=(404,))
@require_scope("read")
def get_conversation(conversation_id):
    """Return one conversation."""
    return conversation_schema.dump(get_owned(Conversation, conversation_id))


@bp.patch("/<conversation_id>")
@documented("updateConversation", "Update a conversation", request=ConversationUpdate,
            response="Conversation", errors=(404,),
            description="Strict-partial: only `customer_name` and `customer_language`; "
                        "`null` clears. Emits no event.")
@require_scope("conversations:write")
def update_conversation(conversation_id):
    """Change a conversation's customer_name or customer_language."""
    changes = load_body(update_schema)
    with db.atomic():
        conversation = get_owned(Conversation, conversation_id, for_update=True)
        conversation.apply_changes(changes)
        update(conversation)
    return conversation_schema.dump(conversation)


@bp.post("/<conversation_id>/send")
@documented("sendMessage", "Send a message", request=MessageSend, response="SendResult",
            status=202, errors=(404,),
            description="Appends an outbound message to the conversation's transcript with the "
                        "next `sequence_number` and updates `last_message_at` (and "
                        "`first_message_at` if unset). vorel-lite delivers it to no real "
                        "channel (`mocked: true`). Emits no event.",
            success_description="Message accepted and stored.")
@require_scope("conversations:write")
def send_message(conversation_id):
    """Store an outbound message as the conversation's next one (delivery is mocked)."""
    data = load_body(send_schema)
    with db.atomic():
        conversation = get_owned(Conversation, conversation_id, for_update=True)
        message = append_message(conversation, direction="outbound", **data)
    return send_result_schema.dump(message), 202


def append_message(conversation, **values):
    """Add the next message of a locked conversation and move its message timestamps."""
    # The conversation's row lock (BEGIN IMMEDIATE on SQLite) makes max + 1 safe; the
    # UNIQUE (conversation_id, sequence_number) constraint is the backstop.
    last = LAST_SEQUENCE_NUMBER.scalar(conversation=conversation.id)
    now = utc_now()
    message = insert(Message, tenant=conversation.tenant_id, conversation=conversation.id,
                     sequence_number=(last or 0) + 1, sent_at=now, **values)
    conversation.first_message_at = conversation.first_message_at or now
    conversation.last_message_at = now
    update(conversation)
    return message
