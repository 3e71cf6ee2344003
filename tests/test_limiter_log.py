"""The limiter's own warnings reach the server's stderr: Redis unreachable is one line there."""
import logging

import pytest

from processes import connect, free_port, send_json, start_flask_serve, terminate_group
from vorel_lite import create_app

FALLBACK = "WARNING flask-limiter Rate limit storage unreachable - falling back to in-memory"


@pytest.fixture
def served_without_redis(tmp_path):
    """A `flask serve` process whose Redis URI points where nothing listens; yields
    (port, key, process)."""
    process, port, key = start_flask_serve(
        tmp_path / "instance", RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/7")
    yield port, key, process
    terminate_group(process, 30)
    process.stdout.close()


@pytest.mark.sqlite_only  # about the limiter's storage, not the database
def test_unreachable_redis_is_one_warning_line_and_requests_are_served(served_without_redis):
    port, key, process = served_without_redis
    auth = {"Authorization": f"Bearer {key}"}
    statuses = [send_json(connect(port, 30), "GET", "/api/v1/leads", auth)[0]
                for _ in range(3)]
    assert statuses == [200, 200, 200]
    terminate_group(process, 30)
    lines = process.stdout.read().splitlines()
    assert sum(FALLBACK in line for line in lines) == 1, lines
    assert sum("GET /api/v1/leads 200" in line for line in lines) == 3, lines
    assert key not in "\n".join(lines)


def test_many_apps_in_one_process_keep_one_stderr_handler_per_logger(tmp_path):
    for n in range(3):
        create_app({"INSTANCE_PATH": str(tmp_path / str(n))})
    for name in ("vorel_lite", "flask-limiter"):
        logger = logging.getLogger(name)
        # Exactly StreamHandler: pytest's capturing handlers are subclasses of it.
        assert [type(h) for h in logger.handlers].count(logging.StreamHandler) == 1, name
        assert not logger.propagate
    # The limiter's INFO lines (one per refused request, naming the key's hash) stay out.
    limiter_log = logging.getLogger("flask-limiter")
    assert limiter_log.isEnabledFor(logging.WARNING)
    assert not limiter_log.isEnabledFor(logging.INFO)
