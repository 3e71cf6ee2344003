"""The /api/v1 blueprints and what they share."""
from flask import g

from ..db import lock_for_update
from ..errors import NotFound
from ..schemas.fields import is_canonical_uuid
from ..statements import Select, param

PREFIX = "/api/v1"


def get_owned(model, row_id, *, field=None, for_update=False):
    """Return the tenant's row with row_id, or 404 exactly as for a row that does not exist.

    for_update: lock the row until commit (inside a transaction) where the database can.
    """
    what = model.__name__.lower()
    row = None
    if is_canonical_uuid(row_id):
        row = owned_select(model, for_update).first(id=row_id.lower(), tenant=g.tenant_id)
    if row is None:
        message = f"No {what} with id {row_id!r}." if len(str(row_id)) <= 64 else f"No such {what}."
        raise NotFound(f"{field}: {message}" if field else message)
    return row


_owned_selects = {}


def owned_select(model, for_update=False):
    """The statement selecting a row of model by id and tenant (and locking it)."""
    select = _owned_selects.get((model, for_update))
    if select is None:
        def build():
            query = model.select().where(
                (model.id == param("id")) & (model.tenant == param("tenant"))).limit(1)
            return lock_for_update(query) if for_update else query
        select = _owned_selects[model, for_update] = Select(model, build)
    return select


def dump_page(page, schema):
    """Dump the rows of a page with schema."""
    return {**page, "data": schema.dump(page["data"], many=True)}
