"""Keyset pagination, newest first, over (created_at, id)."""
from flask import g
from peewee import Tuple

from .errors import BadRequest


def paginate(query, model, limit, cursor=None):
    """Return one page of the tenant's query as {data, next_cursor, has_more}, with rows."""
    if cursor is not None:
        anchor = (model.select(model.created_at, model.id)
                  .where((model.id == cursor) & (model.tenant == g.tenant_id))
                  .first())
        if anchor is None:
            raise BadRequest("cursor: Unknown cursor; use the next_cursor of a previous page.",
                             fields={"cursor": ["Unknown cursor."]})
        query = query.where(Tuple(model.created_at, model.id)
                            < Tuple(anchor.created_at, anchor.id))
    rows = list(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {"data": rows, "next_cursor": rows[-1].id if has_more else None, "has_more": has_more}
