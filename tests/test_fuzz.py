"""Conformance fuzzing: schemathesis against the served OpenAPI document, in-process (WSGI).

Every operation the document lists when the tests are collected is fuzzed with every
schemathesis check (no 5xx, status codes, response schemas, headers, content types, negative
data rejected, positive data accepted, unsupported methods and Allow, auth not ignored...),
plus `error_envelope` below. A stateful run chains operations through the links schemathesis
infers from the document (create a conversation, then read, patch or attach a lead to it...).

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
# Tables the fuzz key lives in; every other table is emptied before each stateful scenario.
KEPT_TABLES = {"tenants", "api_keys"}

# No deadline and no health checks: they judge how fast inputs are generated and answered
# (SQLite writes, big bodies), not whether the API is right.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None,
                    database=None, suppress_health_check=list(HealthCheck), print_blob=True)


def fuzz_app():
    """Return an app on a temporary SQLite file, and an all-scopes key of its only tenant."""
    directory = tempfile.mkdtemp(prefix="vorel-fuzz-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    config = {"TESTING": True, "DATABASE_URL": f"sqlite:///{directory}/fuzz.db",
              "INSTANCE_PATH": os.path.join(directory, "instance"),
              # Far above what the fuzz sends, so a 429 never hides what a request tested.
              "RATELIMIT_PER_KEY": "1000000 per minute",
              "RATELIMIT_PER_TENANT": "1000000 per minute",
              "RATELIMIT_AUTH_FAILURES": "1000000 per minute"}
    # Built at import time (schemathesis needs the document to collect the tests), before
    # conftest's fixture can hide the developer's VOREL_* variables: hide them here.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    with mock.patch.dict(os.environ, environment, clear=True):
        app = create_app(config)
    with app.app_context():
        tenant = Tenant.create(slug="fuzz", name="Fuzz")
        _, secret = issue_key(tenant, SCOPES)
    return app, secret


def bearer_schemes():
    """Name the document's HTTP bearer security schemes, which the fuzz key satisfies."""
    document = app.test_client().get(DOCUMENT).get_json()
    return [name for name, scheme in document["components"]["securitySchemes"].items()
            if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"]


app, SECRET = fuzz_app()
schema = schemathesis.openapi.from_wsgi(DOCUMENT, app, config=SchemathesisConfig.from_dict({
    # Given as the scheme's credentials, not as a plain header: schemathesis then knows the
    # key is real, and its ignored_auth check removes or spoils it to prove it is enforced.
    "auth": {"openapi": {name: {"bearer": SECRET} for name in bearer_schemes()}},
    # The document's description says strings may not contain NUL (no database stores it
    # portably); JSON Schema cannot say so for the free-form attributes, so none is generated.
    "generation": {"max-examples": EXAMPLES, "allow-x00": False},
    # Print failing requests whole (Authorization, Idempotency-Key...): the key is a throwaway
    # one of a temporary database, and a reproduction with [Filtered] values reproduces nothing.
    "output": {"sanitization": {"enabled": False}},
    **({"seed": int(SEED)} if SEED is not None else {}),
}))
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
def test_conformance(case):
    case.call_and_validate(excluded_checks=excluded_checks(case))


def reset_database():
    """Empty every table but the tenant and its key, so each scenario starts the same."""
    with app.app_context():
        tables = [name for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            if name not in KEPT_TABLES]
        with db.atomic():
            # Checked at commit, when every referencing row is gone too.
            db.execute_sql("PRAGMA defer_foreign_keys = ON")
            for name in tables:
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


def test_stateful():
    APIWorkflow.run(settings=SETTINGS)
