"""Fixtures of the OpenAPI tests: lifted rate limits and the served document."""
import pytest

from openapi_helpers import OPENAPI

# Registered as `config` and `document` (name=): the test modules import these functions, and a
# function named like the fixture would be shadowed by every test parameter using it.


@pytest.fixture(name="config")
def lifted_rate_limits(config):
    """The live probes send several hundred requests with one key: lift the rate limits."""
    return {**config, "RATELIMIT_PER_KEY": "100000 per minute",
            "RATELIMIT_PER_TENANT": "100000 per minute"}


@pytest.fixture(name="document")
def served_document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.get_json()
