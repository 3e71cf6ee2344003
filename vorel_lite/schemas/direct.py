"""Loading a body field by field, as marshmallow does, without its bookkeeping."""
from marshmallow import Schema, ValidationError, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA


class DirectLoad(Schema):
    """A schema whose load of a valid body calls each field's deserialize directly.

    A body that is not a dict, has a field the schema does not load or has an invalid value,
    and any load with many or partial, goes through marshmallow's own load, which answers it
    (its errors are marshmallow's): the result of a valid body is the same either way.
    """

    def load(self, data, *, many=None, partial=None, unknown=None):
        """Load data exactly as marshmallow's Schema.load does."""
        plan = self.load_plan()
        if (plan is None or type(data) is not dict or many or partial is not None
                or not data.keys() <= plan[1]):
            return super().load(data, many=many, partial=partial, unknown=unknown)
        result = self.dict_class()
        try:
            for key, name, field in plan[0]:
                value = field.deserialize(data.get(key, missing), key, data)
                if value is not missing:
                    result[name] = value
        except ValidationError:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        return result

    def load_plan(self):
        """Return ((data key, attribute, field) per loaded field, the data keys), or None
        when the schema's hooks, validators or options need marshmallow's path."""
        try:
            return self._load_plan
        except AttributeError:
            pass
        hooks = self._hooks
        plan = None
        if not (self.many or self.partial is not None or hooks[PRE_LOAD] or hooks[POST_LOAD]
                or hooks[VALIDATES] or hooks[VALIDATES_SCHEMA]):
            fields = tuple((field.data_key if field.data_key is not None else name,
                            field.attribute or name, field)
                           for name, field in self.load_fields.items())
            # A dotted attribute is a nested key for marshmallow's set_value.
            if not any("." in name for _, name, _ in fields):
                plan = (fields, frozenset(key for key, _, _ in fields))
        self._load_plan = plan
        return plan
