"""Probe values derived from JSON Schemas, the ECMA-pattern validator, and the verdicts."""
import re
from datetime import datetime, timedelta, timezone
from collections import namedtuple
from decimal import Decimal

from jsonschema import Draft202012Validator, validators
from jsonschema import ValidationError as SchemaViolation
from marshmallow import ValidationError

from openapi_helpers import success_schema
from vorel_lite.schemas.fields import HTTP_URL_PATTERN


# ---------------------------------------------------------------------------------------------
# jsonschema, reading `pattern` as JSON Schema says: an ECMA-262 regular expression
# ---------------------------------------------------------------------------------------------

def ecma_regex(pattern):
    """Translate an ECMA-262 pattern to Python's re for the one construct that differs here.

    In ECMA-262 (without the m flag) `$` matches only at the very end of the input. Python's
    `$` also matches before a final newline, and the stock jsonschema `pattern` keyword uses
    re.search: it would accept "en\\n" for ^[a-z]{2}(-[A-Z]{2})?$, which JSON Schema (and the
    app's FullMatch) reject. Python's `\\Z` is ECMA's `$`.
    """
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return "".join(out)


def ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(ecma_regex(pattern), instance):
        yield SchemaViolation(f"{instance!r} does not match {pattern!r}")


EcmaDraft202012Validator = validators.extend(Draft202012Validator, {"pattern": ecma_pattern})
FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def validator_for(schema):
    """Return a Draft 2020-12 validator of schema that checks formats."""
    Draft202012Validator.check_schema(schema)
    return EcmaDraft202012Validator(schema, format_checker=FORMAT_CHECKER)


# ---------------------------------------------------------------------------------------------
# Probe values, derived from a property's JSON Schema
# ---------------------------------------------------------------------------------------------

# A probe: a label, the body (or query) sent, the property it is about (or None), and whether
# it is a "lax format" probe: a value that is not really a uuid/email but that the jsonschema
# library's format check lets through (see LAX_FORMATS).
Probe = namedtuple("Probe", "label value target lax", defaults=(None, False))

VALID_UUID = "3f2b8c1e-9d4a-4c6b-8e2f-1a5b7c9d0e3f"
VALID_EMAIL = "layla@example.com"
# Two days ago: a valid date-time for every property, the rollup's `since` (1 hour to 90 days
# ago) included, whenever the tests run.
BASE_INSTANT = (datetime.now(timezone.utc) - timedelta(days=2)).replace(microsecond=123456)


def spelled(offset_minutes=0, fraction=".123456", separator="T", zulu="Z"):
    """Write BASE_INSTANT (to the second, with fraction) at an offset from UTC."""
    local = BASE_INSTANT + timedelta(minutes=offset_minutes)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    suffix = zulu if offset_minutes == 0 and zulu else f"{sign}{hours:02d}:{minutes:02d}"
    return f"{local:%Y-%m-%d}{separator}{local:%H:%M:%S}{fraction}{suffix}"


VALID_DATE_TIME = spelled()
VALID_DATE = "2030-03-01"
VALID_URI = "https://example.com/photo.jpg"
# Date-time properties that must come after another of the same body, a rule JSON Schema cannot
# say (later: earlier). In a valid body the earlier takes the first of ORDERED_DATE_TIMES and
# the later the second, before and after every date-time probe value: the rule holds whichever
# of the two a probe changes.
LATER_THAN = {"scheduled_end": "scheduled_start"}
ORDERED_DATE_TIMES = ("2001-01-01T00:00:00Z", "2099-12-31T00:00:00Z")

# Values a pattern matches and misses: a regex cannot be inverted generically, so each pattern
# used by a request schema needs an entry (the probe generator fails and says so otherwise).
PATTERN_EXAMPLES = {
    r"^[a-z]{2}(-[A-Z]{2})?$": {"match": ["en", "ar-AE"],
                                "miss": ["EN", "eng", "e", "en-ae", "en_AE", "ar-AEX"]},
    r"^[A-Z]{3}$": {"match": ["AED", "USD"],
                    "miss": ["aed", "AE", "AEDX", "A1D", "\u00c4ED", "AED "]},
    HTTP_URL_PATTERN: {
        "match": ["https://example.com/photos/1.jpg", "http://example.com",
                  "https://cdn.example.com:8443/a%20b/c.jpg?w=800&h=600#top",
                  "https://example.com/a(1)/b;c=d/@x~!$'*+,=", "https://example.com/a//b/",
                  "HTTPS://example.com/a.jpg", "Http://example.com/a.jpg"],
        "miss": ["ftp://example.com/a.jpg", "https://",
                 "https:///a.jpg", "https://exa mple.com/a.jpg", "https://example.com/a b.jpg",
                 "https://example.com/\u0644.jpg", "https://example.com/%zz.jpg",
                 "https://user@example.com/a.jpg", "https://[::1]/a.jpg", "mailto:a@b.com",
                 "javascript:alert(1)", "example.com/a.jpg", "//example.com/a.jpg",
                 'https://example.com/a"b.jpg', "https://example.com:123456/a.jpg",
                 "https://example.com/a.jpg#x#y", "https://example.com/a\\b.jpg"]},
    r"^[^\u0000-\u001f\u007f]+$": {
        "match": ["order-1", "طلب ١", "a b", "\u00a0x", "\U0001f600", "k" * 200],
        "miss": ["a\r\nX-Evil: 1", "tab\there", "\n", "bell\u0007", "del\u007f", "x\u001f"]},
}

# jsonschema's format checks are looser than the app's:
# - "email" only checks that there is an "@";
# - "uuid" parses with uuid.UUID (which drops every dash) and then only checks the dashes at
#   positions 8, 13, 18 and 23, so an extra dash elsewhere passes.
# For these values the app (marshmallow's Email, CanonicalUUID) is stricter, as RFC 5321 and
# RFC 9562 are. The relation asserted for them is a SUBSET one: everything marshmallow accepts
# jsonschema accepts (a client validating with the document is never rejected for a value the
# server takes); the reverse does not hold for these probes, and the live server agrees with
# marshmallow.
LAX_FORMATS = {
    "email": ["layla@", "@example.com", "layla@example", "la yla@example.com",
              "layla@@example.com", "layla@example..com", "layla@example.com\n"],
    "uuid": ["3f2b8c1e-9d4a-4c6b-8e2f-1a5b-7c9d0e3f"],
    # As strict as the app (Date reads the same YYYY-MM-DD shape with date.fromisoformat).
    "date": [],
    # Looser than the app (any scheme, userinfo, IP literals...), but every uri property also
    # has the app's http(s) pattern, which jsonschema checks too: see PATTERN_EXAMPLES.
    "uri": [],
    # Stricter than RFC 3339's grammar, which has no calendar limit: an instant the server must
    # be able to store is in years 1 to 9999 once moved to UTC. jsonschema's $ lets a final
    # newline through.
    "date-time": ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00",
                  VALID_DATE_TIME + "\n"],
}
# Other spellings of valid values, each the same instant as VALID_DATE_TIME (or within a second
# of it): both must accept them.
GOOD_FORMATS = {
    "date-time": [spelled(fraction=""), spelled(4 * 60), spelled(separator="t", zulu="z"),
                  spelled(-4 * 60), spelled(zulu="").replace("+00:00", "-00:00"),
                  spelled(fraction=".1234567"), spelled(fraction=".1"),
                  spelled(23 * 60 + 59)],
}
# Non-values every format check rejects; these must get the same verdict from both.
BAD_FORMATS = {
    "email": ["not-an-email", ""],
    "uuid": ["not-a-uuid", VALID_UUID.replace("-", ""), VALID_UUID[:-1], VALID_UUID + "0",
             " " + VALID_UUID, "{" + VALID_UUID + "}", "urn:uuid:" + VALID_UUID,
             "g" + VALID_UUID[1:], ""],
    "date": ["2030-02-30", "2030-3-1", "2030-03-01T10:00:00Z", "20300301", "2030-13-01",
             "0000-01-01", "2030/03/01", "\u0662\u0660\u0663\u0660-03-01", "2030-03-01 ", ""],
    "uri": ["not a uri", "example.com/a.jpg", ""],
    "date-time": ["2026-11-28T17:16:35", "2026-11-28", "2026-11-28 17:16:35Z",
                  "2026-02-30T17:16:35Z", "2026-11-28T17:16:35+0400", "2026-11-28T17:16:35+04",
                  "2026-11-28T17:16:35+24:00", "2026-11-28T17:16:35.123456+04:60",
                  "2026-11-28T24:00:00Z", "2026-11-28T23:59:60Z", "2026-13-01T00:00:00Z",
                  "0000-01-01T00:00:00Z", "2026-11-28T17:16Z", "2026-11-28T17:16:35.Z",
                  "2026-11-28T17:16:35ZZ", "17:16:35Z", "1764350195", "now",
                  " " + VALID_DATE_TIME, "\u0662026-11-28T17:16:35Z", ""],
}

HANDLED_KEYWORDS = {"type", "format", "minLength", "maxLength", "minimum", "maximum", "enum",
                    "pattern", "nullable", "description", "additionalProperties", "default",
                    "exclusiveMaximum", "x-decimal-places", "items", "maxItems"}
HANDLED_TYPES = {"string", "integer", "number", "array", "object", "null"}

# Every kind of JSON value, for the "wrong type" probes of every property.
ANY_JSON = [("true", True), ("false", False), ('"5"', "5"), ("5", 5), ("5.0", 5.0),
            ("5.5", 5.5), ("a list", ["x"]), ("an empty list", []), ("an object", {"k": "v"}),
            ("an empty object", {})]


def types_of(schema):
    types = schema.get("type", [])
    return types if isinstance(types, list) else [types]


def folded(schema):
    """Read `anyOf: [S, {"type": "null"}]` (how the document says a nullable enum) as S with
    null in its type and enum, so it gets the probes of any other nullable property."""
    if "anyOf" not in schema:
        return schema
    branch, null = schema["anyOf"]
    assert null == {"type": "null"} and "anyOf" not in branch, schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    widened = {**rest, **branch, "type": [*types_of(branch), "null"]}
    if "enum" in branch:
        widened["enum"] = [*branch["enum"], None]
    return widened


def check_handled(name, schema):
    unknown = set(schema) - HANDLED_KEYWORDS
    assert not unknown, f"{name}: teach the probe generator about {sorted(unknown)}"
    unknown_types = set(types_of(schema)) - HANDLED_TYPES
    assert not unknown_types, f"{name}: teach the probe generator about {unknown_types}"
    if "format" in schema:
        assert schema["format"] in LAX_FORMATS, f"{name}: unknown format {schema['format']}"
    if "pattern" in schema:
        assert schema["pattern"] in PATTERN_EXAMPLES, \
            f"{name}: add examples of pattern {schema['pattern']!r} to PATTERN_EXAMPLES"


def valid_value(schema):
    """Return a value the schema accepts."""
    schema = folded(schema)
    if schema.get("enum"):
        return next(member for member in schema["enum"] if member is not None)
    kind = next((t for t in types_of(schema) if t != "null"), None)
    if kind == "string":
        if "pattern" in schema:
            return PATTERN_EXAMPLES[schema["pattern"]]["match"][0]
        special = {"uuid": VALID_UUID, "email": VALID_EMAIL, "date-time": VALID_DATE_TIME,
                   "date": VALID_DATE, "uri": VALID_URI}
        if schema.get("format") in special:
            return special[schema["format"]]
        return text_of(min(max(5, schema.get("minLength", 0)), schema.get("maxLength", 5)))
    if kind == "integer":
        return min(max(5, schema.get("minimum", 5)), schema.get("maximum", 5))
    if kind == "number":
        return 5.5
    if kind == "boolean":
        return True
    if kind == "object":
        return {"bedrooms": 3}
    if kind == "array":
        return []
    return None


def text_of(length, char="x", format=None):
    """Return a string of exactly length characters (an email address if format is email,
    an http URI if it is uri)."""
    domain = "@example.com"
    if format == "email" and length > len(domain):
        return char * (length - len(domain)) + domain
    site = "https://example.com/"
    if format == "uri" and length > len(site):
        return site + char * (length - len(site))
    return char * length


def string_probes(schema):
    fmt = schema.get("format")
    probes = [("a valid string", valid_value(schema), False), ("an empty string", "", False)]
    if fmt in BAD_FORMATS:
        probes += [(f"a non-{fmt} {bad!r}", bad, False) for bad in BAD_FORMATS[fmt]]
        probes += [(f"a lax-{fmt} {lax!r}", lax, True) for lax in LAX_FORMATS[fmt]]
    probes += [(f"a {fmt} {good!r}", good, False) for good in GOOD_FORMATS.get(fmt, [])]
    if fmt == "uuid":
        probes.append(("an uppercase uuid", VALID_UUID.upper(), False))
    minimum, maximum = schema.get("minLength", 0), schema.get("maxLength")
    if minimum:
        probes += [("minLength chars", text_of(minimum, format=fmt), False),
                   ("minLength - 1 chars", text_of(minimum - 1, format=fmt), False)]
    if maximum is not None:
        probes += [("maxLength chars", text_of(maximum, format=fmt), False),
                   ("maxLength + 1 chars", text_of(maximum + 1, format=fmt), False),
                   ("maxLength 2-byte chars", text_of(maximum, "ل", format=fmt), False),
                   ("maxLength + 1 2-byte chars", text_of(maximum + 1, "ل", format=fmt), False)]
    elif fmt != "uuid":
        # No documented limit: a long value must be accepted too.
        probes.append(("10,000 chars", text_of(10_000, format=fmt), False))
    for member in schema.get("enum", []):
        if member is not None:
            probes += [(f"enum member {member!r}", member, False),
                       (f"enum member upper-cased {member.upper()!r}", member.upper(), False),
                       (f"enum member with a space {member + ' '!r}", member + " ", False)]
    if "enum" in schema:
        probes.append(("a non-member", "not-a-member", False))
    if "pattern" in schema:
        examples = PATTERN_EXAMPLES[schema["pattern"]]
        for good in examples["match"]:
            probes += [(f"matching {good!r}", good, False),
                       (f"matching + newline {good + chr(10)!r}", good + "\n", False),
                       (f"space + matching {' ' + good!r}", " " + good, False)]
        probes += [(f"non-matching {bad!r}", bad, False) for bad in examples["miss"]]
    return probes


def integer_probes(schema):
    value = valid_value({**schema, "type": "integer"})
    probes = [("a valid integer", value), ("the integer as a float", float(value)),
              ("the integer + 0.5", value + 0.5), ("the integer as a string", str(value)),
              ("0", 0), ("-1", -1), ("10**20", 10**20), ("-10**20", -10**20)]
    if "minimum" in schema:
        low = schema["minimum"]
        probes += [("minimum", low), ("minimum - 1", low - 1),
                   ("minimum as a float", float(low)), ("minimum - 0.5", low - 0.5)]
    if "maximum" in schema:
        high = schema["maximum"]
        probes += [("maximum", high), ("maximum + 1", high + 1),
                   ("maximum as a float", float(high)), ("maximum + 0.5", high + 0.5)]
    return [(label, number, False) for label, number in probes]


def number_probes(schema):
    """Probes of a decimal number: its bounds, its step, and floats binary cannot hold.

    x-decimal-places (how many digits the server takes after the point) is no JSON Schema
    keyword: the probes with more digits are lax ones (jsonschema accepts them, the server
    refuses them with a 400 naming the field).
    """
    step = Decimal(1).scaleb(-schema.get("x-decimal-places", 4))
    probes = [("19.99", 19.99), ("0.1", 0.1), ("0", 0), ("0.0", 0.0), ("-0.0", -0.0),
              ("-1", -1), ("19.9900 (trailing zeros)", 19.99), ("1e2", 1e2), ("1.5e-3", 1.5e-3),
              ("10**20", 10**20), ("the step", float(step)),
              ("the number as a string", "19.99")]
    too_precise = [("0.1 + 0.2", 0.1 + 0.2), ("a tenth of the step", float(step / 10)),
                   ("1.5 steps", float(step * 3 / 2))]
    if "minimum" in schema:
        low = Decimal(repr(schema["minimum"]))
        probes += [("minimum", float(low)), ("minimum - the step", float(low - step)),
                   ("minimum + the step", float(low + step))]
    if "exclusiveMaximum" in schema:
        high = Decimal(repr(schema["exclusiveMaximum"]))
        probes += [("exclusiveMaximum", schema["exclusiveMaximum"]),
                   ("exclusiveMaximum as a float", float(high)),
                   ("exclusiveMaximum - 1", int(high) - 1),
                   ("exclusiveMaximum - the step", float(high - step)),
                   ("exclusiveMaximum + 1", int(high) + 1)]
    return ([(label, number, False) for label, number in probes]
            + [(label, number, True) for label, number in too_precise])


def array_probes(name, schema):
    """Probes of an array: its length bounds, repeats, and each item probe alone in a list."""
    items = schema.get("items", {})
    item = valid_value(items)
    probes = [("one valid item", [item], False), ("a repeated item", [item, item], False)]
    if "maxItems" in schema:
        high = schema["maxItems"]
        probes += [("maxItems items", [item] * high, False),
                   ("maxItems + 1 items", [item] * (high + 1), False)]
    probes += [(f"[item = {label}]", [value], lax)
               for label, value, lax in value_probes(f"{name} items", items)]
    probes += [(f"[valid, item = {label}]", [item, value], lax)
               for label, value, lax in value_probes(f"{name} items", items)]
    return probes


def object_probes(schema):
    return [("a valid object", {"bedrooms": 3, "area": "Marina"}, False),
            ("an object with null and nested values",
             {"gone": None, "nested": {"deep": [1, None, "x"]}, "flag": True}, False)]


def value_probes(name, schema):
    """Return (label, value, lax) probes for one property, derived from its schema."""
    schema = folded(schema)
    check_handled(name, schema)
    types = types_of(schema)
    probes = [("null", None, False)] + [(label, value, False) for label, value in ANY_JSON]
    if "string" in types:
        probes += string_probes(schema)
    if "integer" in types:
        probes += integer_probes(schema)
    if "number" in types:
        probes += number_probes(schema)
    if "array" in types:
        probes += array_probes(name, schema)
    if "object" in types:
        probes += object_probes(schema)
    return probes


def valid_object(properties, names):
    """Return {name: a valid value} for names, date-times in order (see LATER_THAN)."""
    body = {name: valid_value(properties[name]) for name in names}
    for later, earlier in LATER_THAN.items():
        if later in body and earlier in body:
            body[earlier], body[later] = ORDERED_DATE_TIMES
    return body


def body_probes(schema, extra_fields):
    """Return the probes of a request body schema.

    extra_fields maps names the schema does not declare (the resource's other fields, the
    marshmallow schema's other fields) to a value to send them with.
    """
    assert schema.get("type") == "object", schema
    properties, required = schema["properties"], schema.get("required", [])
    base = valid_object(properties, required)
    probes = [Probe("the required fields only", base),
              Probe("every field valid", valid_object(properties, properties)),
              Probe("an empty object", {}),
              Probe("a null body", None), Probe("a list body", [base]),
              Probe("a string body", "x"), Probe("a number body", 5)]
    probes += [Probe(f"without required {name}", {k: v for k, v in base.items() if k != name},
                     name) for name in required]
    for name, prop in properties.items():
        probes += [Probe(f"{name} = {label}", {**base, name: value}, name, lax)
                   for label, value, lax in value_probes(name, prop)]
    extras = {"unknown_field": "x", **extra_fields}
    for name, value in extras.items():
        for sent in {repr(v): v for v in (value, "x", None)}.values():
            probes.append(Probe(f"undeclared {name} = {sent!r}", {**base, name: sent}, name))
    return probes


# ---------------------------------------------------------------------------------------------
# Query parameters: values arrive as strings
# ---------------------------------------------------------------------------------------------

DECIMAL_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only, as a client writes them


def query_object_schema(parameters):
    """Return the JSON Schema of a query parameter set, as an object of parsed values.

    OpenAPI cannot say "no other parameters"; the documented set is taken as closed, as the
    server answers 400 to any other parameter (spec §1: a bad query parameter is a 400).
    """
    schema = {"type": "object", "additionalProperties": False,
              "properties": {p["name"]: p["schema"] for p in parameters}}
    required = [p["name"] for p in parameters if p.get("required")]
    if required:
        schema["required"] = required
    return schema


def parse_query(query, schema):
    """Return the query with each integer parameter written in decimal digits parsed."""
    parsed = {}
    for name, text in query.items():
        prop = schema["properties"].get(name, {})
        assert not {"number", "boolean", "array"} & set(types_of(prop)), \
            f"{name}: teach parse_query about {types_of(prop)}"
        is_integer = "integer" in types_of(prop) and DECIMAL_INTEGER.fullmatch(text)
        parsed[name] = int(text) if is_integer else text
    return parsed


def query_value_probes(name, schema):
    """Return (label, text, lax) probes for one query parameter."""
    schema = folded(schema)
    check_handled(name, schema)
    probes = [("an empty string", "", False)]
    if "integer" in types_of(schema):
        value = valid_value(schema)
        numbers = [value, 0, -1, 10**20]
        numbers += [schema["minimum"], schema["minimum"] - 1] if "minimum" in schema else []
        numbers += [schema["maximum"], schema["maximum"] + 1] if "maximum" in schema else []
        probes += [(str(number), str(number), False) for number in numbers]
        probes += [(repr(text), text, False) for text in (
            f"{value}.0", f"{value}.5", "true", "five", f" {value}", f"{value} ", f"+{value}",
            f"0{value}", "1e2", "0x10", "٥", str(value).zfill(19))]
    if "string" in types_of(schema):
        probes += [(label, value, lax) for label, value, lax in string_probes(schema)
                   if isinstance(value, str)]
    return probes


def query_probes(schema, extra_fields):
    properties = schema["properties"]
    base = {name: valid_value(properties[name]) for name in schema.get("required", [])}
    base = {name: str(value) for name, value in base.items()}
    probes = [Probe("no parameters", {}), Probe("the required parameters only", base),
              Probe("every parameter valid",
                    {name: str(valid_value(prop)) for name, prop in properties.items()})]
    probes += [Probe(f"without required {name}", {k: v for k, v in base.items() if k != name},
                     name) for name in schema.get("required", [])]
    for name, prop in properties.items():
        probes += [Probe(f"{name}={label}", {**base, name: value}, name, lax)
                   for label, value, lax in query_value_probes(name, prop)]
    for name in ["unknown_param", *extra_fields]:
        probes += [Probe(f"undeclared {name}={v}", {**base, name: v}, name) for v in ("x", "5")]
    return probes


# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------

def marshmallow_verdict(loader, value):
    """Return (accepted, error messages) of loading value with the app's schema instance."""
    try:
        loader.load(value)
    except ValidationError as error:
        return False, error.messages
    return True, None


def disagreement(where, probe, js_accepts, ms_accepts, messages, js_value=None):
    """Return a description of a disagreement, or None when the verdicts agree."""
    if probe.lax:
        # SUBSET: what marshmallow accepts, jsonschema must accept (see LAX_FORMATS).
        agree = js_accepts or not ms_accepts
    else:
        agree = js_accepts == ms_accepts
    if agree:
        return None
    shown = probe.value if js_value is None else js_value
    return (f"{where}: {probe.label}: jsonschema {'accepts' if js_accepts else 'rejects'} "
            f"{shown!r}, marshmallow {'accepts' if ms_accepts else 'rejects'} it"
            + (f" ({messages})" if messages else ""))


def vacuity(where, probes, verdicts, declared):
    """Each declared property must have probes on both sides, or the comparison proves little."""
    problems = []
    for target in declared:
        seen = {verdict for probe, verdict in zip(probes, verdicts) if probe.target == target}
        if seen != {True, False}:
            problems.append(f"{where}: jsonschema gives the probes of {target} only {seen}")
    return problems


def undeclared_fields(document, operation, schema, loader):
    """Return {name: value} of fields the request schema does not declare: the resource's
    other fields (a client sending the resource back) and the marshmallow schema's other
    loadable fields (which must then reject everything)."""
    declared = set(schema["properties"])
    response = success_schema(document, operation) or {"properties": {}}
    extras = {name: valid_value(prop) for name, prop in response.get("properties", {}).items()
              if name not in declared}
    for name, field in loader.load_fields.items():
        key = field.data_key or name
        if key not in declared:
            extras.setdefault(key, "x")
    return extras
