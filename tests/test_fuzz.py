"""Conformance fuzzing: schemathesis against the served OpenAPI document, in-process (WSGI).

Every operation the document lists when the tests are collected is fuzzed with every
schemathesis check (no 5xx, status codes, response schemas, headers, content types, negative
data rejected, positive data accepted, unsupported methods and Allow, auth not ignored...),
plus `error_envelope` below. A stateful run chains operations through the links schemathesis
infers from the document (create a conversation, then read, patch or attach a lead to it...).
Both run against an app on a SQLite file, then against one on the throw-away PostgreSQL.

Bounded for `make test`; a bigger run on demand: `make fuzz` (FUZZ_EXAMPLES=1000), or
`FUZZ_EXAMPLES=<n> pytest tests/test_fuzz.py`, and other inputs with `FUZZ_SEED=<int>` (the
default run is derandomized, so reproducible). `pytest -m "not fuzz"` leaves it out.
"""
import atexit
import math
import os
import shutil
import tempfile
from decimal import Decimal
from graphlib import TopologicalSorter
from unittest import mock

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import seed as hypothesis_seed
from marshmallow import ValidationError
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from vorel_lite import create_app
from vorel_lite.db import db
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Tenant
from vorel_lite.schemas.fields import OffsetDateTime

pytestmark = pytest.mark.fuzz

DOCUMENT = "/api/v1/openapi.json"
# Hypothesis examples per operation (the coverage phase adds its own deterministic cases),
# and stateful scenarios.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("FUZZ_SEED")
# Tables the fuzz key lives in, and the record of migrations applied (a new database has it);
# every other table is emptied before each stateful scenario.
KEPT_TABLES = {"tenants", "api_keys", "schema_migrations"}

# No deadline and no health checks: they judge how fast inputs are generated and answered
# (SQLite writes, big bodies), not whether the API is right.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None,
                    database=None, suppress_health_check=list(HealthCheck), print_blob=True)


def fuzz_app(url, directory):
    """Return an app on the database at url, and an all-scopes key of its only tenant."""
    config = {"TESTING": True, "DATABASE_URL": url,
              "INSTANCE_PATH": os.path.join(directory, "instance"),
              # Far above what the fuzz sends, so a 429 never hides what a request tested.
              "RATELIMIT_PER_KEY": "1000000 per minute",
              "RATELIMIT_PER_TENANT": "1000000 per minute",
              "RATELIMIT_AUTH_FAILURES": "1000000 per minute"}
    # Built at import time (schemathesis needs the document to collect the tests) and by a
    # module fixture, both before conftest's fixture hides the developer's VOREL_* variables.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    with mock.patch.dict(os.environ, environment, clear=True):
        app = create_app(config)
    with app.app_context():
        tenant = Tenant.create(slug="fuzz", name="Fuzz")
        _, secret = issue_key(tenant, SCOPES)
    return app, secret


class Target:
    """The WSGI app schemathesis calls: the app on the database under test (`database`)."""

    def __init__(self, app, secret):
        self.app, self.secret, self.tables = app, secret, []

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def document_app():
    """Return an app on a temporary SQLite file, to serve the document the tests are made of."""
    directory = tempfile.mkdtemp(prefix="vorel-fuzz-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return fuzz_app(f"sqlite:///{directory}/document.db", directory)


target = Target(*document_app())
schema = schemathesis.openapi.from_wsgi(DOCUMENT, target, config=SchemathesisConfig.from_dict({
    # The document's description says strings may not contain NUL (no database stores it
    # portably); JSON Schema cannot say so for the free-form attributes, so none is generated.
    "generation": {"max-examples": EXAMPLES, "allow-x00": False},
    # Print failing requests whole (Authorization, Idempotency-Key...): the key is a throwaway
    # one of a temporary database, and a reproduction with [Filtered] values reproduces nothing.
    "output": {"sanitization": {"enabled": False}},
    **({"seed": int(SEED)} if SEED is not None else {}),
}))


# Given by an auth provider, not as a plain header: schemathesis then knows the key is real,
# and its ignored_auth check removes or spoils it to prove it is enforced. A provider (rather
# than the scheme's fixed credentials) because each database's app has its own key.
@schema.auth(refresh_interval=None)
class TargetKey:
    """The key of the app under test."""

    def get(self, case, context):
        return target.secret

    def set(self, case, data, context):
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """Point the fuzz at an app on a fresh SQLite file, then on the emptied PostgreSQL."""
    directory = str(tmp_path_factory.mktemp(f"fuzz-{request.param}"))
    if request.param == "sqlite":
        url = f"sqlite:///{directory}/fuzz.db"
    else:
        postgres = request.getfixturevalue("postgres")
        postgres.empty()
        url = postgres.url
    app, secret = fuzz_app(url, directory)
    serving = target.app, target.secret, target.tables
    target.app, target.secret = app, secret
    target.tables = emptied_tables()
    yield request.param
    target.app, target.secret, target.tables = serving
    # A pool's idle connections would otherwise stay open until the app is collected.
    if hasattr(app.extensions["vorel_db"], "close_all"):
        app.extensions["vorel_db"].close_all()


ERROR_ENVELOPE = {**schema.raw_schema["components"]["schemas"]["ErrorEnvelope"],
                  "components": schema.raw_schema["components"]}


@schemathesis.check
def error_envelope(ctx, response, case):
    """Every error, documented status or not (405, 415...), is the documented JSON envelope."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        f"error {response.status_code} is not application/json")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"error {response.status_code} has no JSON body")
    try:
        jsonschema.validate(body, ERROR_ENVELOPE)
    except jsonschema.ValidationError as exc:
        raise AssertionError(f"error {response.status_code} is not the envelope: {exc.message}")
    documented = set(ERROR_ENVELOPE["properties"]["error"]["properties"])
    undocumented = set(body["error"]) - documented
    assert not undocumented, f"undocumented envelope members: {sorted(undocumented)}"
    assert body["error"]["message"], "empty error message"
    return None


def fuzzed(test):
    """Apply the fuzz settings, and FUZZ_SEED when given."""
    test = SETTINGS(test)
    return hypothesis_seed(int(SEED))(test) if SEED is not None else test


def has_inexact_price(case):
    """Tell whether an offering body's price is a float such as 0.30000000000000004."""
    price = case.body.get("price") if isinstance(case.body, dict) else None
    # The float's repr is the JSON text sent: more than 4 decimals when its exponent is < -4.
    return (case.path.startswith("/api/v1/offerings") and isinstance(price, float)
            and math.isfinite(price) and Decimal(repr(price)).as_tuple().exponent < -4)


TIMES = ("scheduled_start", "scheduled_end")


def instant(value):
    """Return a date-time as the app stores it (UTC text that sorts as the instants), or None."""
    try:
        return OffsetDateTime().deserialize(value)
    except ValidationError:
        return None


def has_unordered_times(case):
    """Tell whether an appointment body's times may not be in order, or not storable."""
    body = case.body if isinstance(case.body, dict) else {}
    given = [name for name in TIMES if name in body]
    if not case.path.startswith("/api/v1/appointments") or not given:
        return False
    if len(given) == 1:
        # A PATCH moving one end: the stored row's other end decides.
        return case.method.upper() == "PATCH"
    start, end = (instant(body[name]) for name in TIMES)
    return start is None or end is None or end <= start


def excluded_checks(case):
    """Return the checks a case cannot be judged by."""
    # JSON Schema cannot say "a cursor this server handed out": a well-formed but unknown
    # cursor is the spec's documented 400, not a valid input refused.
    if (case.query or {}).get("cursor"):
        return [positive_data_acceptance]
    # Nor "a time between 90 days and 1 hour ago" (the weekly rollup's `since`): another
    # well-formed date-time is the spec's documented 400.
    if (case.query or {}).get("since"):
        return [positive_data_acceptance]
    # A price with more than 4 decimals (x-decimal-places, which JSON Schema cannot check, and
    # the floats schemathesis computes, such as 0.30000000000000004): the server, reading the
    # number exactly, rightly refuses it.
    if has_inexact_price(case):
        return [positive_data_acceptance]
    # JSON Schema cannot say that scheduled_end comes after scheduled_start, nor that an
    # instant must fall in years 1 to 9999 once moved to UTC: such a body is the documented 400.
    if has_unordered_times(case):
        return [positive_data_acceptance]
    return []


@schema.parametrize()
@fuzzed
def test_conformance(case, database):
    case.call_and_validate(excluded_checks=excluded_checks(case))


def emptied_tables():
    """Name the tables reset_database empties, each before the tables it refers to."""
    with target.app.app_context():
        refers_to = {name: {key.dest_table for key in db.get_foreign_keys(name)} - {name}
                     for name in db.get_tables()}
    order = reversed(list(TopologicalSorter(refers_to).static_order()))
    return [name for name in order if name not in KEPT_TABLES]


def reset_database():
    """Empty every table but KEPT_TABLES, so each scenario starts the same."""
    # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of the tables takes about a hundred
    # times as long, and there is one reset per scenario.
    with target.app.app_context(), db.atomic():
        for name in target.tables:
            db.execute_sql(f'DELETE FROM "{name}"')


class APIWorkflow(schema.as_state_machine()):
    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, additional_checks=additional_checks,
                               excluded_checks=excluded_checks(case),
                               transport_kwargs=kwargs or None, recorder=self.recorder)

    def setup(self):
        # Without this, a scenario replayed while shrinking meets the rows of earlier ones
        # (a create then answers 409), and hypothesis reports a flaky test, not the failure.
        reset_database()


if SEED is not None:
    APIWorkflow = hypothesis_seed(int(SEED))(APIWorkflow)


def test_stateful(database):
    APIWorkflow.run(settings=SETTINGS)
