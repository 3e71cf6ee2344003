"""apispec's MarshmallowPlugin, taught vorel-lite's fields and schema conventions."""
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING, make_type_list
from marshmallow import fields

from ..schemas.common import Representation, UpdateSchema
from ..schemas.fields import (CanonicalUUID, Date, HttpUrl, NotUpdatable, OffsetDateTime,
                              Price)

JSON_TYPES = {bool: "boolean", int: "integer", str: "string"}


class Converter(OpenAPIConverter):
    """Turns vorel-lite's schemas into JSON Schema: bodies, query strings, representations."""

    field_mapping = {
        **DEFAULT_FIELD_MAPPING,
        CanonicalUUID: ("string", "uuid"),
        OffsetDateTime: ("string", "date-time"),
        Date: ("string", "date"),
        HttpUrl: ("string", "uri"),
        Price: ("number", None),
    }

    def init_attribute_functions(self):
        super().init_attribute_functions()
        self.attribute_functions += [self.constant2properties, self.free_form2properties,
                                     self.price2properties, self.nullable_enum2properties]

    def constant2properties(self, field, **kwargs):
        """Say the one value of a Constant."""
        if not isinstance(field, fields.Constant):
            return {}
        return {"type": JSON_TYPES[type(field.constant)], "const": field.constant}

    def free_form2properties(self, field, ret, **kwargs):
        """Say a Dict of any values as the seed says it: `additionalProperties: true`."""
        if isinstance(field, fields.Dict) and ret.get("additionalProperties") == {}:
            return {"additionalProperties": True}
        return {}

    def price2properties(self, field, **kwargs):
        """Say a Price's bounds, and its decimal places as an extension."""
        if not isinstance(field, Price):
            return {}
        # Not multipleOf 0.0001: validators computing it in binary floating point (Python's
        # jsonschema, AJV) refuse 19.99, so clients validating with the document would refuse
        # valid prices. The rule is stated as an extension and in the description instead.
        return {"minimum": 0, "exclusiveMaximum": 10 ** Price.INTEGER_DIGITS,
                "x-decimal-places": Price.FRACTION_DIGITS}

    def nullable_enum2properties(self, field, ret, **kwargs):
        """Say a nullable enum as anyOf the enum and null."""
        # As `type: [string, null]` with null in the enum, openapi-python-client makes three
        # identical enum classes of it; this way each generator makes one enum, or null.
        if not (field.allow_none and "enum" in ret):
            return {}
        kinds = [kind for kind in make_type_list(ret.pop("type", None)) if kind != "null"]
        members = [member for member in ret.pop("enum") if member is not None]
        return {"anyOf": [{"type": kinds[0], "enum": members}, {"type": "null"}]}

    def fields2jsonschema(self, schema_fields, *, partial=None):
        """Leave out the fields no body may contain: additionalProperties false refuses them."""
        kept = {name: field for name, field in schema_fields.items()
                if not isinstance(field, NotUpdatable)}
        return super().fields2jsonschema(kept, partial=partial)

    def schema2jsonschema(self, schema):
        """Return a schema's JSON Schema: required in field order, no defaults."""
        instance = resolve_schema_instance(schema)
        document = super().schema2jsonschema(instance)
        properties = document["properties"]
        if isinstance(instance, Representation):
            required = {field.data_key or name for name, field in instance.fields.items()
                        if name not in instance.Meta.optional}
        else:
            required = set(document.get("required", ()))
        document.pop("required", None)
        if required:
            document["required"] = [name for name in properties if name in required]
        for prop in properties.values():
            # The server fills a body's defaults; the seed's LeadCreate states none, and so no
            # component does (a query parameter does).
            prop.pop("default", None)
        if isinstance(instance, UpdateSchema):
            document["minProperties"] = 1
        return document


class Plugin(MarshmallowPlugin):
    """The MarshmallowPlugin with vorel-lite's converter."""

    Converter = Converter

    def __init__(self):
        # A nested schema is a $ref once named with spec.components.schema, else inlined.
        super().__init__(schema_name_resolver=lambda schema: None)
