"""pytest fixtures of vorel-lite (entry point pytest11): a live server, a fresh tenant per test.

vorel_lite is imported inside the fixtures, so a pytest run that uses none of them pays nothing.
"""
import pytest


@pytest.fixture(scope="session")
def vorel_server():
    """The session's live vorel-lite: in-memory database, free loopback port, fast retries."""
    from vorel_lite.testing import VorelServer
    with VorelServer() as server:
        yield server


@pytest.fixture(scope="session")
def vorel_app(vorel_server):
    """The Flask app of vorel_server, for tests that prefer app.test_client()."""
    return vorel_server.app


@pytest.fixture
def vorel(vorel_server, request):
    """A fresh tenant on vorel_server: base_url, api_key, tenant, key(*scopes), events()."""
    from vorel_lite.testing.server import slug_for
    # Failed keys are counted per client address, and every test calls from 127.0.0.1.
    vorel_server.reset_rate_limits()
    return vorel_server.new_tenant(slug_for(request.node.name))
