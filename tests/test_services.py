"""A test lacking its service is a visible skip for a developer, and a failure under CI.

pytest runs in a subprocess, with the tests' conftest, on two tiny tests: one needs the
`postgres` fixture, one checks Redis in its body; both services are pointed at a port
nobody listens on.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from processes import free_port

TESTS = Path(__file__).resolve().parent
NEEDING_SERVICES = '''
from databases import redis_or_reason
from services import skip_or_fail


def test_needs_postgres(postgres):
    pass


def test_needs_redis():
    reason = redis_or_reason()
    if reason:
        skip_or_fail(reason)
'''


def run_pytest(directory, **variables):
    """Run pytest on the tiny tests with only the given VOREL_* variables; return its result."""
    (directory / "test_needing_services.py").write_text(NEEDING_SERVICES)
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOREL_")}
    env.update(PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]),
               VOREL_TEST_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/postgres",
               VOREL_TEST_REDIS_URL=f"redis://127.0.0.1:{port}/0", **variables)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rA",
         "--rootdir", str(directory), str(directory)],
        cwd=directory, env=env, capture_output=True, text=True, timeout=120)
    return port, result


def summary(output):
    """Return pytest's closing line, such as '2 skipped in 0.1s'."""
    return output.strip().splitlines()[-1]


def test_without_a_service_the_tests_are_skipped_with_the_reason(tmp_path):
    port, result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 skipped\b", summary(result.stdout)), result.stdout
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 2, result.stdout
    # Each skip points at the test that needed the service, not at the helper.
    assert all(line.startswith("SKIPPED [1] test_needing_services.py:") for line in skips), skips
    assert any(f"no PostgreSQL at postgresql://postgres@127.0.0.1:{port}/postgres" in line
               for line in skips), result.stdout
    assert any(f"no Redis at redis://127.0.0.1:{port}/0" in line for line in skips), result.stdout


def test_when_services_are_required_the_same_tests_fail_with_the_reason(tmp_path):
    port, result = run_pytest(tmp_path, VOREL_TEST_REQUIRE_SERVICES="1")
    assert result.returncode == 1, result.stdout + result.stderr
    closing = summary(result.stdout)
    # The fixture's failure is an error at setup; the test body's is a failure.
    assert re.search(r"\b1 failed\b", closing) and re.search(r"\b1 error\b", closing), closing
    assert "skipped" not in closing, closing
    assert f"no PostgreSQL at postgresql://postgres@127.0.0.1:{port}/postgres" in result.stdout
    assert f"no Redis at redis://127.0.0.1:{port}/0" in result.stdout
    assert "VOREL_TEST_REQUIRE_SERVICES is set" in result.stdout
