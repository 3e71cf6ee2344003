"""Redis going away and coming back: limits count per process meanwhile, with one warning line,
then count in Redis again. A TCP proxy between the app and Redis stands for the network."""
import logging
import time
import uuid
from urllib.parse import urlsplit

import pytest

from databases import REDIS_URL, redis_or_reason
from services import skip_or_fail
from tcp_proxy import TcpProxy


@pytest.fixture
def proxy():
    reason = redis_or_reason()
    if reason:
        skip_or_fail(reason)
    target = urlsplit(REDIS_URL)
    running = TcpProxy(target.hostname, target.port or 6379)
    yield running
    running.close()


@pytest.fixture
def config(config, proxy):
    target = urlsplit(REDIS_URL)
    url = target._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
    return {**config, "RATELIMIT_STORAGE_URI": url, "RATELIMIT_PER_KEY": "1000 per minute",
            "RATELIMIT_KEY_PREFIX": f"vorel-test-{uuid.uuid4().hex}"}


@pytest.mark.sqlite_only  # about the limiter's storage, not the database
def test_limits_fall_back_with_one_warning_and_return_to_redis(client, auth, proxy, caplog):
    caplog.set_level(logging.INFO, logger="flask-limiter")
    remaining = [int(client.get("/api/v1/leads", headers=auth).headers["X-RateLimit-Remaining"])
                 for _ in range(2)]
    assert remaining == [999, 998]
    proxy.cut()
    answers = [client.get("/api/v1/leads", headers=auth) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    proxy.restore()
    deadline = time.monotonic() + 90
    while not any("recovered" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the limiter never went back to Redis"
        assert client.get("/api/v1/leads", headers=auth).status_code == 200
        time.sleep(0.5)
    # Back in Redis: the count goes on from what Redis had kept.
    after = int(client.get("/api/v1/leads", headers=auth).headers["X-RateLimit-Remaining"])
    assert after < 998
