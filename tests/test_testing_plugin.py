"""The pytest plugin as a user meets it: their own test files, run by pytest in a subprocess.

Each suite lives in tmp_path with its own rootdir, so this repository's conftest.py and settings
play no part: the fixtures come from the plugin's pytest11 entry point alone.
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# How a user's tests call the API: the standard library only, every answer decoded.
CALL = '''
import json
import re
import urllib.error
import urllib.request

import pytest

CUSTOMER = {"channel": "whatsapp", "customer_identifier": "+971500000001"}


def call(vorel, method, path, body=None, key=None, headers=()):
    """Return (status, headers, decoded JSON body) of one request to the vorel server."""
    request = urllib.request.Request(
        f"{vorel.base_url}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key or vorel.api_key}",
                 "Content-Type": "application/json", **dict(headers)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, json.load(error)
'''

USER_TESTS = CALL + '''

def test_a_lead_its_events_and_a_read_only_key(vorel):
    assert re.fullmatch(r"http://127\\.0\\.0\\.1:\\d+", vorel.base_url)
    status, _, conversation = call(vorel, "POST", "/api/v1/conversations", CUSTOMER)
    assert status == 201
    status, _, lead = call(vorel, "POST", "/api/v1/leads",
                           {"conversation_id": conversation["id"], "status": "qualified"})
    assert status == 201

    reader = vorel.key("read")
    assert call(vorel, "GET", f"/api/v1/leads/{lead['id']}", key=reader)[:3:2] == (200, lead)
    status, _, refused = call(vorel, "PATCH", f"/api/v1/leads/{lead['id']}",
                              {"status": "lost"}, key=reader)
    assert (status, refused["error"]["code"]) == (403, "forbidden")

    events = vorel.events()
    assert [event["event"] for event in events][-1] == "conversation.created"
    assert sorted(event["event"] for event in events) == [
        "conversation.created", "lead.created", "lead.qualified"]
    assert len({event["tenant_id"] for event in events}) == 1
    assert call(vorel, "GET", "/api/v1/events?limit=100")[2]["data"] == events
    assert [event["data"] for event in vorel.events("lead.created")] == [lead]
'''

ISOLATION_TESTS = CALL + '''
BAD_KEY = "vapk_test_" + "0" * 48


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_has_a_tenant_of_its_own(vorel, run):
    # The same natural keys in both runs: one conversation per customer, one lead per
    # conversation, one answer per Idempotency-Key.
    status, headers, conversation = call(vorel, "POST", "/api/v1/conversations", CUSTOMER,
                                         headers={"Idempotency-Key": "the-same-in-both"})
    assert status == 201, conversation
    assert "Idempotent-Replayed" not in headers
    assert headers["X-RateLimit-Remaining"] == "199"
    status, _, lead = call(vorel, "POST", "/api/v1/leads",
                           {"conversation_id": conversation["id"]})
    assert status == 201, lead
    assert call(vorel, "GET", "/api/v1/leads")[2]["data"] == [lead]
    assert len(vorel.events()) == 2

    # The key's 200 requests a minute are this test's alone...
    statuses = [call(vorel, "GET", "/api/v1/leads?limit=1")[0] for _ in range(197)]
    assert statuses == [200] * 197
    assert call(vorel, "GET", "/api/v1/leads")[0] == 429
    # ...and so are the 60 failed keys a minute counted per client address.
    assert [call(vorel, "GET", "/api/v1/leads", key=BAD_KEY)[0] for _ in range(60)] == [401] * 60
    assert call(vorel, "GET", "/api/v1/leads", key=BAD_KEY)[0] == 429
'''

# One tenant for the whole session instead of one per test: what the plugin must not do.
SHARED_TENANT_CONFTEST = '''
import pytest


@pytest.fixture(scope="session")
def shared_tenant(vorel_server):
    return vorel_server.new_tenant()


@pytest.fixture
def vorel(shared_tenant):
    return shared_tenant
'''

APP_TESTS = '''
def test_the_app_behind_the_server(vorel, vorel_app, vorel_server):
    assert vorel_app is vorel_server.app
    headers = {"Authorization": f"Bearer {vorel.api_key}"}
    created = vorel_app.test_client().post("/api/v1/offerings", headers=headers,
                                           json={"title": "Marina View 2BR", "price": 19.9})
    assert created.status_code == 201
    assert [event["data"] for event in vorel.events("offering.created")] == [created.get_json()]
    other = vorel_server.new_tenant()
    assert other.tenant != vorel.tenant and other.base_url == vorel.base_url
    assert other.events() == []
'''


def run_suite(directory, files, *options, autoload=False):
    """Write files into directory and run pytest there as the user's own project would.

    Without autoload, pytest loads no installed plugin but vorel_lite, by its entry point's
    name, as if vorel-lite were all that is installed (and faster than loading them all).
    """
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text))
    (directory / "pytest.ini").write_text("[pytest]\n")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("VOREL_", "PYTEST_")) and name != "PYTHONPATH"}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        options = ("-p", "vorel_lite", *options)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-q",
         "--rootdir", str(directory), "-c", str(directory / "pytest.ini"), *options],
        cwd=directory, env=env, capture_output=True, text=True, timeout=300)


def summary(result):
    """Return pytest's closing line, e.g. '3 passed in 1.20s'."""
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else result.stderr


def test_a_users_tests_use_vorel_its_keys_and_its_events(tmp_path):
    result = run_suite(tmp_path, {"test_leads.py": USER_TESTS}, autoload=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result).startswith("1 passed")


def test_two_tests_never_share_rows_natural_keys_or_rate_limits(tmp_path):
    result = run_suite(tmp_path, {"test_isolation.py": ISOLATION_TESTS})
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result).startswith("2 passed")


def test_the_isolation_tests_fail_when_tests_share_a_tenant(tmp_path):
    result = run_suite(tmp_path, {"test_isolation.py": ISOLATION_TESTS,
                                  "conftest.py": SHARED_TENANT_CONFTEST})
    assert summary(result).startswith("1 failed, 1 passed"), result.stdout + result.stderr
    assert "FAILED test_isolation.py::test_each_test_has_a_tenant_of_its_own[second]" \
        in result.stdout


def test_vorel_app_is_the_servers_flask_app(tmp_path):
    result = run_suite(tmp_path, {"test_app.py": APP_TESTS})
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result).startswith("1 passed")


def test_the_fixtures_come_from_the_plugins_entry_point(tmp_path):
    result = run_suite(tmp_path, {"test_leads.py": USER_TESTS}, "-p", "no:vorel_lite",
                       autoload=True)
    assert result.returncode == 1
    assert "fixture 'vorel' not found" in result.stdout
    result = run_suite(tmp_path, {}, "--trace-config")
    assert "PLUGIN registered: <module 'vorel_lite.testing.pytest_plugin'" in result.stdout


def test_loading_the_plugin_imports_nothing_heavy():
    # pytest loads every installed plugin in every run: vorel_lite waits for a fixture.
    script = ("import sys, pytest; before = set(sys.modules);"
              "import vorel_lite.testing.pytest_plugin;"
              "print(*sorted(set(sys.modules) - before))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.split() == ["vorel_lite", "vorel_lite.testing",
                                     "vorel_lite.testing.pytest_plugin"]


def test_the_readme_example_passes(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## In your tests\n", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    result = run_suite(tmp_path, {"test_readme.py": example})
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result).startswith("1 passed")
