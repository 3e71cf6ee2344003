"""Translate marshmallow schemas into the JSON Schema (OpenAPI 3.1) they enforce."""
from marshmallow import fields, missing, validate

from ..schemas.fields import (CanonicalUUID, Date, FullMatch, HttpUrl, JSONInteger,
                              NotUpdatable, OffsetDateTime, Price, QueryInteger)


def type_of(field):
    """Return the JSON Schema for a field's type alone."""
    if isinstance(field, (JSONInteger, QueryInteger)):
        return {"type": "integer"}
    if isinstance(field, fields.Email):
        return {"type": "string", "format": "email"}
    if isinstance(field, CanonicalUUID):
        return {"type": "string", "format": "uuid"}
    if isinstance(field, OffsetDateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, Date):
        return {"type": "string", "format": "date"}
    if isinstance(field, HttpUrl):
        return {"type": "string", "format": "uri"}
    if isinstance(field, Price):
        # Not multipleOf 0.0001: validators computing it in binary floating point (Python's
        # jsonschema, AJV) refuse 19.99, so clients validating with the document would refuse
        # valid prices. The rule is stated as an extension and in the description instead.
        return {"type": "number", "minimum": 0,
                "exclusiveMaximum": 10 ** Price.INTEGER_DIGITS,
                "x-decimal-places": Price.FRACTION_DIGITS}
    if isinstance(field, fields.List):
        return {"type": "array", "items": field_schema(field.inner)}
    if isinstance(field, fields.String):
        return {"type": "string"}
    if isinstance(field, fields.Dict):
        return {"type": "object", "additionalProperties": True}
    raise TypeError(f"no JSON Schema translation for {type(field).__name__}")


def constraints_of(field):
    """Return the JSON Schema keywords for a field's validators."""
    keywords = {}
    for validator in field.validators:
        if isinstance(validator, validate.Length):
            names = (("minItems", "maxItems") if isinstance(field, fields.List)
                     else ("minLength", "maxLength"))
            keywords.update({k: v for k, v in zip(names, (validator.min, validator.max))
                             if v is not None})
        elif isinstance(validator, validate.Range):
            keywords.update({k: v for k, v in (("minimum", validator.min),
                                               ("maximum", validator.max)) if v is not None})
        elif isinstance(validator, validate.OneOf):
            keywords["enum"] = list(validator.choices)
        elif isinstance(validator, FullMatch):
            keywords["pattern"] = validator.regex.pattern
        elif isinstance(validator, validate.Email):
            continue  # said by format: email
        else:
            raise TypeError(f"no JSON Schema translation for {type(validator).__name__}")
    return keywords


def nullable(schema):
    """Allow null as well."""
    # OpenAPI 3.1 is JSON Schema: null must be in the type (and in an enum); `nullable` is
    # kept for 3.0-era generators, as in the seed.
    widened = {**schema, "type": [schema["type"], "null"], "nullable": True}
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened


def field_schema(field):
    """Return the JSON Schema of one marshmallow field."""
    schema = {**type_of(field), **constraints_of(field)}
    if field.allow_none:
        schema = nullable(schema)
    if "description" in field.metadata:
        schema["description"] = field.metadata["description"]
    return schema


def body_schema(schema_cls, *, minimum_properties=0):
    """Return the JSON Schema of a request body loaded by schema_cls."""
    declared = {name: f for name, f in schema_cls._declared_fields.items()
                if not isinstance(f, NotUpdatable)}
    document = {
        "type": "object",
        "properties": {f.data_key or name: field_schema(f) for name, f in declared.items()},
        "additionalProperties": False,
    }
    required = [f.data_key or name for name, f in declared.items() if f.required]
    if required:
        document["required"] = required
    if minimum_properties:
        document["minProperties"] = minimum_properties
    return document


def query_parameters(schema_cls):
    """Return the OpenAPI parameters of a query string loaded by schema_cls."""
    parameters = []
    for name, f in schema_cls._declared_fields.items():
        schema = field_schema(f)
        if f.load_default is not missing and not callable(f.load_default):
            schema["default"] = f.load_default
        parameter = {"name": name, "in": "query", "required": f.required, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        parameters.append(parameter)
    return parameters
