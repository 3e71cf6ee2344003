"""Keyset pagination, newest first: over (created_at, id), or another column and id."""
import functools

from flask import g
from peewee import Tuple

from .errors import BadRequest
from .statements import Select, owned_select, param


class Pages:
    """The pages of one model's rows of the tenant, optionally filtered.

    order: the column rows come in, descending, ties by id descending (default created_at).
    visible: a condition every listed row meets (soft-deleted rows are not listed).
    Each filter is a function adding its condition to a query, with `param(name)` for its
    value; each combination of filters (and of a cursor or none) is compiled once.
    """

    def __init__(self, model, *, order=None, visible=None, **filters):
        self.model = model
        self.order = order or model.created_at
        self.visible = visible
        self.filters = filters
        self.select = functools.cache(self.compile_select)

    def page(self, limit, cursor=None, *, tenant_id=None, **values):
        """Return {data, next_cursor, has_more}; values are those of the filters applied.

        tenant_id: whose rows; by default the request's (g.tenant_id, set by its API key).
        Raises BadRequest for a cursor that is no row of the tenant's.
        """
        tenant_id = tenant_id or g.tenant_id
        values.update(tenant=tenant_id, limit=limit + 1)
        if cursor is not None:
            # A row deleted since its page was served still anchors the next page.
            anchor = owned_select(self.model, with_deleted=True).first(id=cursor,
                                                                       tenant=tenant_id)
            if anchor is None:
                raise BadRequest("cursor: Unknown cursor; use the next_cursor of a previous "
                                 "page.", fields={"cursor": ["Unknown cursor."]})
            values.update(after_order=getattr(anchor, self.order.name), after_id=anchor.id)
        names = tuple(name for name in self.filters if name in values)
        rows = self.select(names, cursor is not None).rows(**values)
        has_more = len(rows) > limit
        rows = rows[:limit]
        return {"data": rows, "next_cursor": rows[-1].id if has_more else None,
                "has_more": has_more}

    def compile_select(self, names, after):
        return Select(self.model, lambda: self.query(names, after))

    def query(self, names, after):
        model = self.model
        query = model.select().where(model.tenant == param("tenant"))
        if self.visible is not None:
            query = query.where(self.visible)
        for name in names:
            query = self.filters[name](query)
        if after:
            query = query.where(Tuple(self.order, model.id)
                                < Tuple(param("after_order"), param("after_id")))
        return query.order_by(self.order.desc(), model.id.desc()).limit(param("limit"))
