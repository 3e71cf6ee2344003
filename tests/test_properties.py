"""Bad input at volume: Hypothesis property tests against the served OpenAPI document.

Arbitrary JSON values (huge integers, NaN and Infinity, unicode, NUL, lone surrogates as
escapes and as raw bytes, duplicate keys, deep nesting, objects shaped like the operation's
request schema), arbitrary strings and arbitrary byte sequences go, with and without
`Content-Type: application/json`, to every POST and PATCH body the document lists, at real
ids of rows made by the fixture and at random ids; arbitrary values, unknown names and
repeated names go to every query parameter of every list operation it lists. For each
example:

- the status is one the document lists for the operation, never a 5xx, and never 401, 403
  or 429 (an all-scopes key, and rate limits far above what the tests send);
- every error (status >= 400) is `{"error": {"code", "message"}}` as JSON, with at most the
  optional `fields` (on a 400) and `existing_id` (on a 409);
- nothing was written on a 4xx (nor ever by a GET): the rows of the conversations, leads,
  events, handoffs, messages, offerings, appointments and idempotency_keys tables are the
  same before and after.

Every property runs on a SQLite file and on the throw-away PostgreSQL database. Operations
are read from the document, so a new endpoint is covered without touching this file; a new
path parameter needs one line in SEEDED_IDS.

Bounded for `make test`; a bigger run on demand: `PROPERTY_EXAMPLES=1000 pytest
tests/test_properties.py`. The default run is derandomized (reproducible); `PROPERTY_SEED=<int>`
explores other inputs.
"""
import atexit
import json
import logging
import math
import os
import shutil
import tempfile
from datetime import datetime
from types import SimpleNamespace
from unittest import mock
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from openapi_helpers import resolve
from receiver import Receiver
from vorel_lite import config as default_config
from vorel_lite import create_app
from vorel_lite.crm.connection import connect as connect_crm
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import (Appointment, Conversation, CrmPush, CrmRecord, Event, Handoff,
                               IdempotencyKey, Lead, Message, Offering, Tenant)

DOCUMENT = "/api/v1/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Examples per test (one test per operation and kind of input).
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "40"))
SEED = os.environ.get("PROPERTY_SEED")
# The tables a request could write to; their rows are compared before and after each example.
WATCHED = (Conversation, Lead, Event, Handoff, Message, IdempotencyKey, Offering, Appointment,
           CrmRecord, CrmPush)
# Never a right answer here: the key has every scope, the limits are far above the volume.
NEVER = {401, 403, 429}
ENVELOPE_CODES = {"bad_request", "unauthorized", "forbidden", "not_found", "conflict",
                  "rate_limited", "internal_error"}
CODE_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                  429: "rate_limited"}
JSON = "application/json"
OVERSIZED = b" " * (default_config.MAX_CONTENT_LENGTH + 1)
HIGH_LIMITS = {"RATELIMIT_PER_KEY": "1000000 per minute",
               "RATELIMIT_PER_TENANT": "1000000 per minute",
               "RATELIMIT_AUTH_FAILURES": "1000000 per minute"}
# Path parameter -> which seeded rows' ids to use for it (own tenant's and another tenant's).
# A new path parameter in the document needs one line here (test_every_path_parameter_is_seeded).
SEEDED_IDS = {
    "conversation_id": "conversations",
    "lead_id": "leads",
    "offering_id": "offerings",
    "appointment_id": "appointments",
}

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


def fuzzed(test):
    """Apply the shared settings, and PROPERTY_SEED when it is given."""
    test = SETTINGS(test)
    return hypothesis_seed(int(SEED))(test) if SEED is not None else test


def without_vorel_environment():
    """Hide the developer's VOREL_* variables while an app is built."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    return mock.patch.dict(os.environ, kept, clear=True)


# --- the document --------------------------------------------------------------------------

def operations(document):
    """Yield a namespace per operation: method, path, statuses, parameters, body schema."""
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operation = resolve(operation, document)
            parameters = resolve(shared, document) + operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {}).get(JSON, {})
            success = [resolve(r, document).get("content", {}).get(JSON, {}).get("schema", {})
                       for s, r in operation["responses"].items() if s.startswith("2")]
            yield SimpleNamespace(
                method=method.upper(), path=path, id=f"{method.upper()} {path}",
                statuses={int(s) for s in operation["responses"] if s.isdigit()},
                path_params=[p["name"] for p in parameters if p["in"] == "path"],
                query_params={p["name"]: p.get("schema", {}) for p in parameters
                              if p["in"] == "query"},
                body_schema=body.get("schema", {}),
                is_list=any({"data", "next_cursor"} <= set(s.get("properties", {}))
                            for s in success))


def body_operations(document):
    return [op for op in operations(document) if op.method in ("POST", "PATCH")]


def list_operations(document):
    return [op for op in operations(document) if op.method == "GET" and op.is_list]


def collected_document():
    """The served document, from a throwaway in-memory app, to parametrize the tests."""
    directory = tempfile.mkdtemp(prefix="vorel-properties-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    with without_vorel_environment():
        app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:///:memory:",
                          "INSTANCE_PATH": directory})
    return app.test_client().get(DOCUMENT).get_json()


COLLECTED = collected_document()
BODY_OPERATIONS = body_operations(COLLECTED)
LIST_OPERATIONS = list_operations(COLLECTED)
by_id = pytest.mark.parametrize("operation_id", [op.id for op in BODY_OPERATIONS])
list_by_id = pytest.mark.parametrize("operation_id", [op.id for op in LIST_OPERATIONS])


# --- the app under test ----------------------------------------------------------------------

class ErrorLog(logging.Handler):
    """Keep the server's error records (with tracebacks) for the failure message."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, tmp_path_factory):
    """An app on a fresh SQLite file, then on the emptied PostgreSQL, with two tenants' rows."""
    level = logging.getLogger("vorel_lite").level
    directory = tmp_path_factory.mktemp(f"properties-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{directory}/properties.db"
    else:
        postgres = request.getfixturevalue("postgres")
        postgres.empty()
        url = postgres.url
    config = {"TESTING": True, "DATABASE_URL": url,
              "INSTANCE_PATH": str(directory / "instance"), "LOG_LEVEL": "WARNING",
              **HIGH_LIMITS}
    with without_vorel_environment():
        app = create_app(config)
    client = app.test_client()
    headers = {}
    with app.app_context():
        for slug in ("acme", "globex"):
            tenant = Tenant.create(slug=slug, name=slug)
            headers[slug] = {"Authorization": f"Bearer {issue_key(tenant, SCOPES)[1]}"}
    seeded = {slug: {"conversations": [], "leads": [], "offerings": [], "appointments": []}
              for slug in headers}
    for slug, auth in headers.items():
        for number in (1, 2):
            response = client.post("/api/v1/conversations", headers=auth, json={
                "channel": "whatsapp", "customer_identifier": f"+97150000000{number}"})
            assert response.status_code == 201, response.get_json()
            seeded[slug]["conversations"].append(response.get_json()["id"])
        # The second conversation has no lead, so a lead create can succeed once.
        response = client.post("/api/v1/leads", headers=auth, json={
            "conversation_id": seeded[slug]["conversations"][0], "name": "Layla"})
        assert response.status_code == 201, response.get_json()
        seeded[slug]["leads"].append(response.get_json()["id"])
        for title in ("Marina View 2BR", "Haircut"):
            response = client.post("/api/v1/offerings", headers=auth,
                                   json={"title": title, "price": 19.99})
            assert response.status_code == 201, response.get_json()
            seeded[slug]["offerings"].append(response.get_json()["id"])
        for day in (1, 2):
            response = client.post("/api/v1/appointments", headers=auth, json={
                "customer_name": "Layla", "customer_phone": "+971500000001",
                "scheduled_start": f"2030-03-0{day}T10:00:00Z",
                "scheduled_end": f"2030-03-0{day}T15:00:00+04:00",
                "lead_id": seeded[slug]["leads"][0]})
            assert response.status_code == 201, response.get_json()
            seeded[slug]["appointments"].append(response.get_json()["id"])
    # acme's CRM is a loopback endpoint, so fuzzed pushes really go out (and refusals don't).
    crm = Receiver(default=(201, {"id": "crm-1"}))
    with app.app_context():
        connect_crm(Tenant.get(Tenant.slug == "acme"), crm.url, {})
    document = client.get(DOCUMENT).get_json()
    # Ids each list answers with, to use as (valid) cursors.
    listed = {}
    for op in list_operations(document):
        page = client.get(op.path, headers=headers["acme"], query_string={"limit": 100})
        listed[op.id] = [row["id"] for row in page.get_json()["data"]]
    errors = ErrorLog()
    logger = logging.getLogger("vorel_lite")
    logger.addHandler(errors)
    yield SimpleNamespace(
        app=app, client=client, auth=headers["acme"], document=document, errors=errors,
        operations={op.id: op for op in operations(document)},
        own=seeded["acme"], other=seeded["globex"], listed=listed,
        all_ids=sorted({i for rows in seeded.values() for ids in rows.values() for i in ids}))
    logger.removeHandler(errors)
    crm.close()
    logger.setLevel(level)  # create_app set it from LOG_LEVEL for every app of the process
    # A pool's idle connections would otherwise stay open until the app is collected.
    if hasattr(app.extensions["vorel_db"], "close_all"):
        app.extensions["vorel_db"].close_all()


def snapshot(api):
    """Every row of the watched tables."""
    with api.app.app_context():
        return {model._meta.table_name: sorted(map(repr, model.select().tuples()))
                for model in WATCHED}


def changes(before, after):
    return {table: {"before": len(before[table]), "after": len(after[table]),
                    "added": sorted(set(after[table]) - set(before[table]))[:3],
                    "removed": sorted(set(before[table]) - set(after[table]))[:3]}
            for table in before if before[table] != after[table]}


def call(api, operation, path, **request):
    """Send one request and check the answer against the document; return the response."""
    before = snapshot(api)
    api.errors.lines.clear()
    response = api.client.open(path, method=operation.method, headers=api.auth, **request)
    status = response.status_code
    shown = {key: (value[:300] if isinstance(value, (bytes, str)) else value)
             for key, value in request.items()}
    context = (f"\n{operation.method} {path} {shown}\n-> {status} {response.data[:1000]!r}"
               f"\nserver errors: {api.errors.lines}")
    assert status < 500, f"server error{context}"
    allowed = operation.statuses - NEVER
    assert status in allowed, f"status {status} not in documented {sorted(allowed)}{context}"
    if status >= 400:
        assert_envelope(response, status, context)
    if status >= 400 or operation.method == "GET":
        after = snapshot(api)
        assert after == before, f"rows written: {changes(before, after)}{context}"
    return response


def assert_envelope(response, status, context):
    assert response.mimetype == JSON, f"error content type {response.mimetype!r}{context}"
    try:
        body = json.loads(response.data)
    except ValueError:
        raise AssertionError(f"error body is not JSON{context}")
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the envelope{context}"
    error = body["error"]
    assert isinstance(error, dict), f"not the envelope{context}"
    assert {"code", "message"} <= set(error) <= {"code", "message", "fields", "existing_id"}, \
        f"envelope members {sorted(error)}{context}"
    assert error["code"] in ENVELOPE_CODES, f"code {error['code']!r}{context}"
    assert error["code"] == CODE_BY_STATUS.get(status, "bad_request"), \
        f"code {error['code']!r} for status {status}{context}"
    assert isinstance(error["message"], str) and error["message"], f"empty message{context}"
    if "fields" in error:
        assert status == 400, f"fields on a {status}{context}"
        assert isinstance(error["fields"], dict) and all(
            isinstance(name, str) and isinstance(messages, list)
            and all(isinstance(m, str) for m in messages)
            for name, messages in error["fields"].items()), f"malformed fields{context}"
    if "existing_id" in error:
        assert status == 409, f"existing_id on a {status}{context}"
        assert isinstance(error["existing_id"], str), f"malformed existing_id{context}"


# --- strategies ----------------------------------------------------------------------------

class Raw(str):
    """A token written into the JSON text as it is (NaN, 1e999, a 5,000-digit integer...)."""


class Pairs(list):
    """A JSON object as (key, value) pairs, so it can repeat a key."""


# Text with everything: NUL, controls, astral characters and lone surrogates.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
awkward_text = st.sampled_from(["", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y",
                                "\U0001f600", "\u202e", "\ufeff", "é" * 201, "\uffff",
                                "null", "true", "0", "-1", "1e999", "NaN"])
texts = st.one_of(any_text, awkward_text)
huge_digits = st.builds(lambda sign, digit, count: Raw(sign + digit * count),
                        st.sampled_from(["", "-"]), st.sampled_from("123456789"),
                        st.sampled_from([19, 20, 40, 309, 4300, 4301, 5000]))
integers = st.one_of(st.integers(), st.integers(-2**64 - 1, 2**64 + 1),
                     st.sampled_from([0, -1, 1, 100, 101, 2**31, 2**53 + 1, 2**63, -2**63 - 1]))
floats = st.floats(allow_nan=True, allow_infinity=True)
odd_numbers = st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("1E-999"), Raw("-0"),
                               Raw("0.0"), Raw("5.0"), Raw("1e2"), Raw("NaN"),
                               Raw("Infinity"), Raw("-Infinity")])
scalars = st.one_of(st.none(), st.booleans(), integers, huge_digits, floats, odd_numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(texts, children, max_size=5),
        st.lists(st.tuples(st.sampled_from(["a", "name", ""]) | texts, children),
                 min_size=2, max_size=4).map(Pairs)),
    max_leaves=20)


deeply_nested = st.builds(
    lambda depth, kind: Raw("[" * depth + "]" * depth) if kind == "array"
    else Raw('{"a":' * depth + "1" + "}" * depth),
    st.sampled_from([31, 32, 33, 1000, 100000]), st.sampled_from(["array", "object"]))


def encode(value, ascii_only):
    """Write value as JSON text; Raw tokens as they are, Pairs with their repeated keys."""
    if isinstance(value, Raw):
        return str(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    if isinstance(value, list) and not isinstance(value, Pairs):
        return "[" + ",".join(encode(item, ascii_only) for item in value) + "]"
    pairs = value if isinstance(value, Pairs) else value.items()
    return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=ascii_only)}:"
                          f"{encode(v, ascii_only)}" for k, v in pairs) + "}"


@st.composite
def json_texts(draw, values):
    """JSON text of a value: surrogates as \\u escapes or raw; UTF-8, with BOM, UTF-16/32."""
    value = draw(values)
    ascii_only = draw(st.booleans())
    text = encode(value, ascii_only)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                                     "utf-32"]))
    return text.encode(encoding, "surrogatepass")


def property_values(schema, ids):
    """Values aimed at one property: its enum, lengths at its bounds, real ids, anything."""
    choices = [json_values, st.sampled_from(ids)]
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    for bound in ("maxLength", "minLength"):
        if bound in schema:
            n = schema[bound]
            choices.append(st.text(st.characters(codec=None, exclude_categories=()),
                                   min_size=max(n - 1, 0), max_size=n + 1))
            choices.append(st.sampled_from(["é" * n, "é" * (n + 1), "\U0001f600" * n]))
    if "minimum" in schema or "maximum" in schema:
        edges = [schema[k] + d for k in ("minimum", "maximum") if k in schema for d in (-1, 0, 1)]
        choices.append(st.sampled_from(edges + [float(edges[0]), str(edges[0])]))
    if schema.get("format") == "email":
        choices.append(st.emails())
    if schema.get("type") == "object" or "object" in schema.get("type", []):
        choices.append(st.dictionaries(texts, json_values, max_size=4))
    return st.one_of(choices)


def types_of(schema):
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


storable_text = st.characters(codec="utf-8", exclude_characters="\x00")
# RFC 3339 date-times with an offset, in the years a server can store.
date_times = st.builds(lambda moment, offset: moment.isoformat() + offset,
                       st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)),
                       st.sampled_from(["Z", "+04:00", "-05:30", "+00:00"]))


def valid_values(schema, ids):
    """Values the schema allows (as far as it says), so examples also get past validation."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    choices = [st.none()] if "null" in types_of(schema) or schema.get("nullable") else []
    for kind in types_of(schema):
        if kind == "string" and schema.get("format") == "uuid":
            choices.append(st.sampled_from(ids))
        elif kind == "string" and schema.get("format") == "email":
            choices.append(st.emails().filter(lambda e: len(e) <= schema.get("maxLength", 254)))
        elif kind == "string" and "pattern" in schema:
            choices.append(st.from_regex(schema["pattern"], fullmatch=True))
        elif kind == "string" and schema.get("format") == "date":
            choices.append(st.dates().map(str))
        elif kind == "string" and schema.get("format") == "date-time":
            choices.append(date_times)
        elif kind == "string":
            choices.append(st.text(storable_text, min_size=schema.get("minLength", 0),
                                   max_size=min(schema.get("maxLength", 40), 40)))
        elif kind in ("integer", "number"):
            top = schema.get("exclusiveMaximum", 2**53 + 1) - 1
            choices.append(st.integers(schema.get("minimum", -2**53),
                                       schema.get("maximum", top)))
        elif kind == "array":
            choices.append(st.lists(valid_values(schema.get("items", {}), ids),
                                    max_size=min(schema.get("maxItems", 3), 3)))
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "object":
            choices.append(st.dictionaries(st.text(storable_text, max_size=8),
                                           st.none() | st.booleans() | st.integers(-9, 9)
                                           | st.text(storable_text, max_size=8), max_size=3))
    return st.one_of(choices) if choices else json_values


def shaped_objects(schema, ids):
    """Objects with the schema's property names: valid, partly valid, with unknown names."""
    properties = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in properties]
    valid = st.fixed_dictionaries(
        {name: valid_values(properties[name], ids) for name in required},
        optional={name: valid_values(sub, ids) for name, sub in properties.items()
                  if name not in required})
    mixed = st.fixed_dictionaries(
        {}, optional={name: st.one_of(valid_values(sub, ids), property_values(sub, ids))
                      for name, sub in properties.items()})
    extra = st.dictionaries(st.sampled_from(["id", "tenant_id", "created_at", "__proto__"])
                            | texts, json_values, min_size=1, max_size=2)
    return st.one_of(valid, mixed, st.builds(lambda a, b: {**b, **a}, st.one_of(valid, mixed),
                                             extra))


content_types = st.sampled_from([JSON, JSON, None, "application/json; charset=utf-8",
                                 "text/plain", "application/x-www-form-urlencoded",
                                 "application/merge-patch+json", "multipart/form-data"])


@st.composite
def path_ids(draw, seeded):
    """A real id (own tenant's or another's), a random uuid, or any one path segment."""
    kind = draw(st.sampled_from(["own", "own", "other", "uuid", "text", "bytes"]))
    if kind in ("own", "other"):
        return quote_from_bytes(draw(st.sampled_from(seeded[kind])).encode(), safe="")
    if kind == "uuid":
        value = str(draw(st.uuids()))
        return draw(st.sampled_from([value, value.upper(), value.replace("-", ""),
                                     "{" + value + "}", value + " "]))
    if kind == "text":
        value = draw(st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1,
                             max_size=80))
        return quote_from_bytes(value.encode(), safe="")
    # A "/" would make another route (or another operation) of it: not this operation's id.
    value = draw(st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b))
    return quote_from_bytes(value, safe="")


@st.composite
def operation_paths(draw, api, operation):
    path = operation.path
    for name in operation.path_params:
        rows = SEEDED_IDS[name]
        seeded = {"own": api.own[rows], "other": api.other[rows]}
        path = path.replace("{" + name + "}", draw(path_ids(seeded)))
    return path


def send_body(api, operation, body, data):
    """Send body to operation with a drawn content type, at a drawn path."""
    request = {"data": body}
    content_type = data.draw(content_types, label="content_type")
    if content_type is not None:
        request["content_type"] = content_type
    return call(api, operation, data.draw(operation_paths(api, operation), label="path"),
                **request)


# --- the properties ----------------------------------------------------------------------------

def test_the_document_has_what_is_fuzzed(api):
    """The served document lists bodies and lists, and the module fuzzes each of them."""
    assert BODY_OPERATIONS and LIST_OPERATIONS
    assert [op.id for op in body_operations(api.document)] == [op.id for op in BODY_OPERATIONS]
    assert [op.id for op in list_operations(api.document)] == [op.id for op in LIST_OPERATIONS]


def test_every_path_parameter_is_seeded():
    names = {name for op in operations(COLLECTED) for name in op.path_params}
    assert names <= set(SEEDED_IDS), f"add seeded ids for {sorted(names - set(SEEDED_IDS))}"


@by_id
@fuzzed
@given(data=st.data())
def test_arbitrary_json_bodies(api, operation_id, data):
    operation = api.operations[operation_id]
    values = st.one_of(json_values, shaped_objects(operation.body_schema, api.all_ids),
                       deeply_nested)
    body = data.draw(json_texts(values), label="body")
    send_body(api, operation, body, data)


@by_id
@fuzzed
@given(data=st.data())
def test_arbitrary_string_bodies(api, operation_id, data):
    operation = api.operations[operation_id]
    text = data.draw(st.one_of(texts, st.text(st.characters(codec=None, exclude_categories=()),
                                              max_size=400)), label="text")
    body = text.encode("utf-8", "surrogatepass")
    send_body(api, operation, body, data)


@by_id
@fuzzed
@given(data=st.data())
def test_arbitrary_byte_bodies(api, operation_id, data):
    operation = api.operations[operation_id]
    body = data.draw(st.one_of(st.binary(max_size=400), st.just(b""), st.just(OVERSIZED)),
                     label="body")
    send_body(api, operation, body, data)


def query_values(schema, ids):
    """Values for one query parameter: anything, its enum, numbers around its bounds, ids."""
    choices = [texts, st.sampled_from(ids), st.uuids().map(str),
               integers.map(str), huge_digits.map(str), floats.map(str)]
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    edges = [schema[k] + d for k in ("minimum", "maximum") if k in schema for d in (-1, 0, 1)]
    if edges:
        odd = [f" {edges[1]}", "1.0", "+5", "0x10", "\u0661\u0662", "1_0"]
        choices.append(st.sampled_from([str(e) for e in edges] + odd))
    return st.one_of(choices)


def encode_query(pairs):
    return "&".join(quote_from_bytes(name.encode("utf-8", "surrogatepass"), safe="") + "="
                    + quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")
                    for name, value in pairs)


@list_by_id
@fuzzed
@given(data=st.data())
def test_arbitrary_query_parameters(api, operation_id, data):
    operation = api.operations[operation_id]
    names = list(operation.query_params)
    pair = st.one_of(
        st.sampled_from(names).flatmap(lambda name: st.tuples(
            st.just(name), query_values(operation.query_params[name],
                                        api.listed[operation_id] + api.all_ids))),
        st.tuples(texts, texts))
    structured = st.lists(pair, max_size=5).map(encode_query)
    # Raw bytes, with the separators left in so they make names, values and empty pairs.
    raw = st.binary(max_size=80).map(lambda b: quote_from_bytes(b, safe="&=;+"))
    repeated = st.tuples(st.sampled_from(names), st.lists(texts, min_size=2, max_size=3)).map(
        lambda nv: encode_query([(nv[0], v) for v in nv[1]]))
    valid = st.fixed_dictionaries({}, optional={
        name: valid_values(schema, api.listed[operation_id] or api.all_ids).map(str)
        for name, schema in operation.query_params.items()}).map(
        lambda values: encode_query(values.items()))
    query = data.draw(st.one_of(valid, structured, raw, repeated), label="query")
    call(api, operation, operation.path, query_string=query)
