"""Tests that need a service this machine may lack (PostgreSQL, Redis, nginx, a browser).

Without the service such a test is skipped, visibly, with the reason in pytest's summary: a
developer's `make test` still passes. CI must not pass by skipping: `.ci/run` sets
`VOREL_TEST_REQUIRE_SERVICES=1`, and every such skip then fails with the same reason.
"""
import os

import pytest

# Read at import: the tests' autouse fixture hides every VOREL_* variable during a test.
REQUIRE_SERVICES = os.environ.get("VOREL_TEST_REQUIRE_SERVICES", "") not in ("", "0")


def skip_or_fail(reason):
    """Skip the test for want of a service, or fail it when services are required (CI)."""
    __tracebackhide__ = True  # report the caller's line, not this one
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (VOREL_TEST_REQUIRE_SERVICES is set: the service is required)",
                    pytrace=False)
    pytest.skip(reason)
