"""The /api/v1 blueprints and what they share."""
from marshmallow import ValidationError

from ..context import app_or_none, current_request, request_globals
from ..errors import NotFound
from ..schemas.fields import is_canonical_uuid
from ..statements import owned_select

PREFIX = "/api/v1"


def get_owned(model, row_id, *, field=None, for_update=False):
    """Return the tenant's row with row_id, or 404 exactly as for a row that does not exist.

    for_update: lock the row until commit (inside a transaction) where the database can.
    """
    what = model.__name__.lower()
    row = None
    if is_canonical_uuid(row_id):
        row = owned_select(model, for_update).first(id=row_id.lower(),
                                                    tenant=request_globals().tenant_id)
    if row is None:
        message = f"No {what} with id {row_id!r}." if len(str(row_id)) <= 64 else f"No such {what}."
        raise NotFound(f"{field}: {message}" if field else message)
    return row


def dump_page(page, schema):
    """Dump the rows of a page with schema."""
    return {**page, "data": schema.dump(page["data"], many=True)}


def answer_options(response):
    """Answer OPTIONS under /api/v1 with 204, its Allow header and no body (spec section 1)."""
    request = current_request()
    if (request.method == "OPTIONS" and response.status_code == 200
            and request.path.startswith(f"{PREFIX}/")):
        response.status_code = 204
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
    return response


def refuse_unknown_query():
    """Refuse query parameters on an operation that takes none (spec section 1: a bad query
    parameter is a 400), as a list refuses the ones it does not know."""
    request = current_request()
    args = request.args
    if not args:
        return
    operation = getattr(app_or_none().view_functions.get(request.endpoint), "operation", None)
    if operation is not None and operation.query is None:
        raise ValidationError({name: ["Unknown field."] for name in args})
