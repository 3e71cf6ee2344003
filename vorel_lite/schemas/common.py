"""Schemas shared by every resource: list queries and strict-partial updates."""
from marshmallow import Schema, ValidationError, validates_schema
from marshmallow.validate import Range

from .fields import CanonicalUUID, NotUpdatable, QueryInteger


class PageQuery(Schema):
    """limit and cursor of a keyset-paginated list."""

    limit = QueryInteger(load_default=25, validate=Range(1, 100))
    cursor = CanonicalUUID()


class UpdateSchema(Schema):
    """A strict-partial update: at least one updatable field, none that is not updatable."""

    @classmethod
    def updatable_fields(cls):
        """Return the names of the fields a PATCH may change."""
        return [name for name, field in cls._declared_fields.items()
                if not isinstance(field, NotUpdatable)]

    @validates_schema
    def require_a_change(self, data, **kwargs):
        """Refuse a PATCH that changes nothing."""
        if not data:
            names = ", ".join(self.updatable_fields())
            raise ValidationError(f"Provide at least one updatable field: {names}.")
