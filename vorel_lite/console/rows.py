"""The tenant's rows a console page lists, and the row a console URL names (its id checked
once, then looked up in the operator's tenant)."""
from flask import abort
from flask_login import current_user

from ..schemas.fields import is_canonical_uuid


def row_id(text, missing):
    """Return the id in a console URL as canonical lowercase UUID text, or 404 with missing.

    Checked before any query: PostgreSQL refuses a NUL in text, and ids are stored lowercase.
    """
    if not is_canonical_uuid(text):
        abort(404, missing)
    return text.lower()


def tenant_row(model, text, missing):
    """Return the signed-in tenant's row of model with the id in text, or 404 with missing
    (as for a row that does not exist)."""
    row = model.get_or_none((model.id == row_id(text, missing))
                            & (model.tenant == current_user.tenant_id))
    if row is None:
        abort(404, missing)
    return row


def tenant_rows(model, tenant_id):
    """Return the tenant's rows of model, newest first (ties by id)."""
    return list(model.select().where(model.tenant == tenant_id)
                .order_by(model.created_at.desc(), model.id))
