"""Strict creates: the database's UNIQUE constraints decide, IntegrityError becomes 409."""
from peewee import IntegrityError

from .db import constraint_guard
from .errors import Conflict
from .statements import insert


def create_unique(model, natural_key, message, parent=None, **values):
    """Insert a row, or raise Conflict with the id of the row already holding natural_key.

    parent: as for statements.insert (None is returned when its row is not the tenant's).
    """
    try:
        with constraint_guard():
            return insert(model, parent, **natural_key, **values)
    except IntegrityError:
        condition = [getattr(model, name) == value for name, value in natural_key.items()]
        existing = model.get_or_none(*condition)
        if existing is None:
            raise
        raise Conflict(message, existing_id=existing.id) from None
