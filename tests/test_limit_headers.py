"""The rate-limit headers come from the request's own hits: one read of the storage, not four."""
import pytest
from flask import request
from limits.strategies import FixedWindowRateLimiter

from vorel_lite import create_app
from vorel_lite.keys import issue_key
from vorel_lite.limits import COUNTS, CountingFixedWindow
from vorel_lite.models import Tenant


@pytest.fixture
def storage_reads(app, monkeypatch):
    """Count the storage reads the headers may make: window stats, counts and expiries."""
    reads = {"get_window_stats": 0, "get_expiry": 0}
    limiter = app.extensions["vorel_limiter"]
    storage = limiter.storage

    def counted(name, real):
        def read(*args, **kwargs):
            reads[name] += 1
            return real(*args, **kwargs)
        return read

    monkeypatch.setattr(FixedWindowRateLimiter, "get_window_stats",
                        counted("get_window_stats", FixedWindowRateLimiter.get_window_stats))
    monkeypatch.setattr(storage, "get_expiry", counted("get_expiry", storage.get_expiry))
    return reads


def test_the_limiter_hits_through_the_counting_window(app):
    assert type(app.extensions["vorel_limiter"].limiter) is CountingFixedWindow


def test_a_served_request_reads_one_expiry_and_no_count(client, auth, storage_reads):
    for remaining in (199, 198, 197):
        response = client.get("/api/v1/leads", headers=auth)
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    assert storage_reads == {"get_window_stats": 0, "get_expiry": 3}


def test_each_hit_leaves_its_count_under_the_limits_key(app, client, auth):
    limiter = app.extensions["vorel_limiter"]
    seen = []

    @app.after_request
    def look(response):
        seen.append(({lim.key for lim in limiter.current_limits}, dict(request.environ[COUNTS])))
        return response

    client.get("/api/v1/leads", headers=auth)
    client.get("/api/v1/leads", headers=auth)
    (first_keys, first), (keys, counts) = seen
    assert len(keys) == 2 and keys == first_keys == set(counts)
    assert list(first.values()) == [1, 1] and list(counts.values()) == [2, 2]
    assert all(limiter.storage.get(key) == 2 for key in counts)


def test_a_refused_request_still_says_when_to_retry(app, client, make_key, storage_reads):
    app.config["RATELIMIT_PER_KEY"] = "2 per minute"
    headers = make_key()
    assert [client.get("/api/v1/leads", headers=headers).status_code
            for _ in range(3)] == [200, 200, 429]
    refused = client.get("/api/v1/leads", headers=headers)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert storage_reads["get_window_stats"] == 0


@pytest.mark.parametrize("strategy", ["moving-window", "sliding-window-counter"])
def test_other_strategies_read_their_windows_as_before(config, strategy):
    app = create_app({**config, "RATELIMIT_STRATEGY": strategy,
                      "RATELIMIT_PER_KEY": "3 per minute"})
    assert type(app.extensions["vorel_limiter"].limiter) is not CountingFixedWindow
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="acme")
        _, secret = issue_key(tenant, ["read"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    answers = [client.get("/api/v1/leads", headers=headers) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    app.extensions["vorel_db"].close_all()
