"""Conversations: create, read, list, update."""
from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_body, load_query
from ..db import db, lock_for_update
from ..events import emit_event
from ..models import Conversation
from ..openapi.registry import documented
from ..pagination import paginate
from ..schemas.common import PageQuery
from ..schemas.conversations import ConversationCreate, ConversationOut, ConversationUpdate
from ..uniqueness import create_unique
from . import PREFIX, dump_page, get_owned

bp = Blueprint("conversations", __name__, url_prefix=f"{PREFIX}/conversations")

create_schema = ConversationCreate()
update_schema = ConversationUpdate()
page_query = PageQuery()
conversation_schema = ConversationOut()


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
        emit_event("conversation.created", body)
    return body, 201


@bp.get("")
@documented("listConversations", "List conversations", query=PageQuery,
            response="ConversationPage", description="Newest first.")
@require_scope("read")
def list_conversations():
    """List the tenant's conversations, newest first."""
    args = load_query(page_query)
    query = Conversation.select().where(Conversation.tenant == g.tenant_id)
    return dump_page(paginate(query, Conversation, args["limit"], args.get("cursor")),
                     conversation_schema)


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
        conversation = get_owned(Conversation, conversation_id,
                                 query=lock_for_update(Conversation.select()))
        conversation.apply_changes(changes)
        conversation.save()
    return conversation_schema.dump(conversation)
