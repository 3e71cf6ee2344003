"""Analytics: the weekly rollup of the tenant's own rows."""
from flask import Blueprint, g
from peewee import fn

from ..auth import require_scope
from ..body import load_query
from ..models import Conversation, Handoff, Message, utc_now
from ..openapi.registry import documented
from ..schemas.analytics import RollupOut, RollupQuery
from . import PREFIX

bp = Blueprint("analytics", __name__, url_prefix=f"{PREFIX}/analytics")

rollup_query = RollupQuery()
rollup_schema = RollupOut()
TOP_REASONS = 5


@bp.get("/weekly-rollup")
@documented("getWeeklyRollup", "Get the weekly rollup", query=RollupQuery,
            response="WeeklyRollup",
            description="Counts of the tenant's own rows created at or after `since`. "
                        "vorel-lite runs no AI agent and scores no conversations: "
                        "`hallucination_flag_count` is 0, `top_flag_kinds` is empty and the "
                        "`qa_*` figures are null (no data), never 0.")
@require_scope("read")
def get_weekly_rollup():
    """Count the tenant's conversations, agent turns and handoff reasons since `since`."""
    since = load_query(rollup_query)["since"]
    computed_at = utc_now()
    return rollup_schema.dump({
        "since": since,
        "computed_at": computed_at,
        "qa_avg": None, "qa_p50": None, "qa_p95": None,
        "conversation_count": Conversation.select().where(
            (Conversation.tenant == g.tenant_id) & (Conversation.created_at >= since)).count(),
        "agent_turn_count": Message.select().where(
            (Message.tenant == g.tenant_id) & (Message.direction == "outbound")
            & (Message.sent_at >= since)).count(),
        "hallucination_flag_count": 0,
        "top_flag_kinds": [],
        "top_handoff_reasons": top_handoff_reasons(since),
    })


def top_handoff_reasons(since):
    """Return up to 5 {"kind", "count"} of handoff reasons since since, most frequent first."""
    count = fn.COUNT(Handoff.id)
    rows = (Handoff.select(Handoff.reason, count)
            .where((Handoff.tenant == g.tenant_id) & (Handoff.created_at >= since)
                   & Handoff.reason.is_null(False) & (Handoff.reason != ""))
            .group_by(Handoff.reason)
            .order_by(count.desc(), Handoff.reason)
            .limit(TOP_REASONS)
            .tuples())
    return [{"kind": reason, "count": number} for reason, number in rows]
