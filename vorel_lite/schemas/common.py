"""Schemas shared by every resource: list queries, strict-partial updates, representations."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema
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


class Representation(Schema):
    """What the API answers: every field is in every answer, except those in Meta.optional."""

    class Meta:
        # Dumped, never loaded: the document leaves it open to fields added later.
        unknown = EXCLUDE
        optional = ()


def page_of(item):
    """Return the schema of a list page of item (a Representation), named like `LeadPage`."""
    return Representation.from_dict({
        "data": fields.List(fields.Nested(item)),
        "next_cursor": CanonicalUUID(allow_none=True),
        "has_more": fields.Boolean(),
    }, name=f"{item.__name__.removesuffix('Out')}Page")
