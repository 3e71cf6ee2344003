"""The /api/v1 blueprints and what they share."""
from flask import g

from ..errors import NotFound
from ..schemas.fields import is_canonical_uuid
from ..statements import Select, param

PREFIX = "/api/v1"


def get_owned(model, row_id, *, field=None, query=None):
    """Return the tenant's row with row_id, or 404 exactly as for a row that does not exist."""
    what = model.__name__.lower()
    row = None
    if is_canonical_uuid(row_id):
        if query is None:
            row = owned_select(model).first(id=row_id.lower(), tenant=g.tenant_id)
        else:
            row = query.where((model.id == row_id.lower()) & (model.tenant == g.tenant_id)).first()
    if row is None:
        message = f"No {what} with id {row_id!r}." if len(str(row_id)) <= 64 else f"No such {what}."
        raise NotFound(f"{field}: {message}" if field else message)
    return row


_owned_selects = {}


def owned_select(model):
    """The statement selecting a row of model by id and tenant."""
    select = _owned_selects.get(model)
    if select is None:
        select = _owned_selects[model] = Select(model, lambda: model.select().where(
            (model.id == param("id")) & (model.tenant == param("tenant"))).limit(1))
    return select


def dump_page(page, schema):
    """Dump the rows of a page with schema."""
    return {**page, "data": schema.dump(page["data"], many=True)}
