"""Schemas shared by every resource: list queries, strict-partial updates, representations."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, validates_schema
from marshmallow.decorators import POST_DUMP, PRE_DUMP
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

    def dump(self, obj, *, many=None):
        """Dump obj (a row, or rows with many) exactly as marshmallow does, in half the time."""
        plan = self.dump_plan()
        many = self.many if many is None else bool(many)
        if plan is None or obj is None:
            return super().dump(obj, many=many)
        if many:
            return [self.dump_row(plan, row) for row in obj]
        return self.dump_row(plan, obj)

    def dump_plan(self):
        """Return (data key, attribute name, field, read directly) per field, or None when a
        dump hook or an accessor of the schema's own needs marshmallow's path throughout."""
        try:
            return self._dump_plan
        except AttributeError:
            pass
        hooks = type(self).resolve_hooks()
        plan = None
        if not (hooks[PRE_DUMP] or hooks[POST_DUMP]
                or type(self).get_attribute is not Schema.get_attribute):
            plan = tuple(
                (field.data_key if field.data_key is not None else name, name, field,
                 # marshmallow's accessor reads such a field as getattr(row, attribute).
                 field._CHECK_ATTRIBUTE and type(field).get_value is fields.Field.get_value
                 and "." not in (field.attribute or name))
                for name, field in self.dump_fields.items())
        self._dump_plan = plan
        return plan

    def dump_row(self, plan, row):
        """Dump one object with plan; the plain attributes of an object such as a model row
        are read directly."""
        # As marshmallow's accessor does: row[name] first where row has items (a dict).
        direct = not hasattr(row, "__getitem__")
        data = self.dict_class()
        for key, name, field, plain in plan:
            if direct and plain:
                value = getattr(row, field.attribute or name, missing)
                if value is missing:
                    default = field.dump_default
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
                value = field._serialize(value, name, row)
            else:
                value = field.serialize(name, row, accessor=self.get_attribute)
                if value is missing:
                    continue
            data[key] = value
        return data


def page_of(item):
    """Return the schema of a list page of item (a Representation), named like `LeadPage`."""
    return Representation.from_dict({
        "data": fields.List(fields.Nested(item)),
        "next_cursor": CanonicalUUID(allow_none=True),
        "has_more": fields.Boolean(),
    }, name=f"{item.__name__.removesuffix('Out')}Page")
