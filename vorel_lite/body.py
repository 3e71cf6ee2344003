"""Reading request bodies and query strings into validated data."""
import json
import math

from flask import request
from marshmallow import ValidationError

from .errors import ApiError, BadRequest

MAX_NESTING = 32


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"key {key!r} appears more than once")
        document[key] = value
    return document


class JSONNumber(float):
    """A JSON number with a fraction or exponent: a float that keeps the text it was written as.

    Decimal fields read the text (19.99 stays exactly 19.99); everything else sees a float.
    """

    __slots__ = ("text",)


def _finite_float(text):
    value = JSONNumber(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    value.text = text
    return value


def parse_json_object():
    """Return the request body as a JSON object, or raise the 4xx that says why it is not."""
    if not request.is_json:
        raise ApiError("Content-Type must be application/json.", status=415)
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float,
                           object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc.msg} at position {exc.pos}.")
    except (ValueError, RecursionError) as exc:
        # Invalid UTF-8, integers too long to convert, Infinity/NaN, absurd nesting.
        raise BadRequest(f"Request body is not valid JSON: {exc}.")
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object.")
    check_storable(value)
    return value


def check_storable(document):
    """Refuse text no database can store (NUL, lone surrogates) and absurd nesting."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_NESTING:
            raise BadRequest(f"Request body nests deeper than {MAX_NESTING} levels.")
        if isinstance(value, dict):
            pending.extend((k, depth) for k in value)
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise BadRequest("Request body contains a NUL character (\\u0000) in a string.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("Request body contains an unpaired UTF-16 surrogate.")


def load_body(schema, **kwargs):
    """Parse the JSON body and load it with a marshmallow schema."""
    return schema.load(parse_json_object(), **kwargs)


def load_optional_body(schema, **kwargs):
    """Load the body like load_body, except that no body at all (no Content-Type, empty) is {}."""
    if not request.content_type and not request.get_data(cache=True):
        return schema.load({}, **kwargs)
    return load_body(schema, **kwargs)


def load_query(schema):
    """Load the query string with a marshmallow schema; a repeated parameter is a 400."""
    repeated = {name: ["Given more than once."] for name, values in request.args.lists()
                if len(values) > 1}
    if repeated:
        raise ValidationError(repeated)
    return schema.load(request.args.to_dict())
