"""The console's lists: a page of the tenant's rows, newest first, by status, from the query."""
from flask import abort, request
from flask_login import current_user

from ..errors import BadRequest, clip
from ..schemas.fields import is_canonical_uuid

PAGE_SIZE = 25
STALE_CURSOR = "This page's link is broken or out of date: start again from the first page."


def list_page(pages, statuses):
    """Return ({data, next_cursor, has_more}, status or None) for ?status=&cursor= of the page.

    pages: a Pages with a status filter. 400 for a status not in statuses, or a cursor that
    is no row of the signed-in operator's tenant (as the API's lists refuse them).
    """
    status = request.args.get("status") or None
    cursor = request.args.get("cursor") or None
    if status is not None and status not in statuses:
        abort(400, f"There is no status {clip(status)!r}; the statuses are "
                   f"{', '.join(statuses)}.")
    if cursor is not None and not is_canonical_uuid(cursor):
        abort(400, STALE_CURSOR)
    filters = {"status": status} if status else {}
    try:
        page = pages.page(PAGE_SIZE, cursor and cursor.lower(),
                          tenant_id=current_user.tenant_id, **filters)
    except BadRequest:
        abort(400, STALE_CURSOR)
    return page, status
