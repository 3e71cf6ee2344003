"""Per-key, per-tenant and failed-authentication rate limits, and their headers."""
import time
import uuid

import pytest

from databases import REDIS_URL, redis_or_reason
from helpers import assert_error
from services import skip_or_fail


@pytest.fixture(params=["memory", "redis"])
def config(request, config):
    """Every rate-limit test counts in memory and in Redis (own key prefix per test)."""
    if request.param == "memory":
        return config
    reason = redis_or_reason()
    if reason:
        skip_or_fail(reason)
    return {**config, "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": f"vorel-test-{uuid.uuid4().hex}"}


def hit(client, headers, times, path="/api/v1/leads"):
    return [client.get(path, headers=headers) for _ in range(times)]


def assert_limit_headers(response, limit, remaining):
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    reset = int(response.headers["X-RateLimit-Reset"])
    assert time.time() <= reset <= time.time() + 61


def test_the_201st_request_in_a_minute_is_429_and_another_key_is_unaffected(client, make_key):
    first, second = make_key("acme"), make_key("acme")
    answers = hit(client, first, 200)
    assert [r.status_code for r in answers] == [200] * 200
    assert_limit_headers(answers[0], 200, 199)
    assert_limit_headers(answers[-1], 200, 0)
    assert "Retry-After" not in answers[-1].headers

    refused = client.get("/api/v1/leads", headers=first)
    assert_error(refused, 429, "rate_limited")
    assert_limit_headers(refused, 200, 0)
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # Writes are refused too, and count against the same bucket.
    assert client.post("/api/v1/conversations", headers=first, json={}).status_code == 429

    other = client.get("/api/v1/leads", headers=second)
    assert other.status_code == 200
    assert_limit_headers(other, 200, 199)


class TestSmallLimits:
    """Limits of 5 per key, 8 per tenant and 3 failed authentications a minute."""

    @pytest.fixture
    def config(self, config):
        return {**config, "RATELIMIT_PER_KEY": "5 per minute",
                "RATELIMIT_PER_TENANT": "8 per minute", "RATELIMIT_AUTH_FAILURES": "3 per minute"}

    def test_the_tenant_limit_covers_all_its_keys(self, client, make_key):
        first, second, stranger = make_key("acme"), make_key("acme"), make_key("globex")
        assert [r.status_code for r in hit(client, first, 5)] == [200] * 5
        answers = hit(client, second, 4)
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        # The headers describe the limit closest to exhaustion: the tenant's, 8 with 1 left.
        assert_limit_headers(answers[2], 8, 0)
        assert hit(client, stranger, 1)[0].status_code == 200

    def test_headers_describe_the_limit_closest_to_exhaustion(self, client, make_key):
        first, second = make_key("acme"), make_key("acme")
        assert_limit_headers(hit(client, first, 1)[0], 5, 4)
        hit(client, first, 3)
        assert_limit_headers(hit(client, second, 1)[0], 8, 3)

    def test_failed_authentication_is_limited_per_address(self, client, auth):
        bad = {"Authorization": "Bearer vapk_live_" + "0" * 48}
        answers = hit(client, bad, 3)
        assert [r.status_code for r in answers] == [401] * 3
        assert_limit_headers(answers[-1], 3, 0)
        refused = hit(client, bad, 1)[0]
        assert_error(refused, 429, "rate_limited")
        assert "Retry-After" in refused.headers
        assert hit(client, {}, 1)[0].status_code == 429
        # A valid key from the same address (a NAT, a proxy: everyone) is still served, and
        # its headers describe its own limits.
        served = hit(client, auth, 2)
        assert [r.status_code for r in served] == [200, 200]
        assert_limit_headers(served[-1], 5, 3)
        # Other addresses may still fail (and be told so) until their own limit.
        elsewhere = client.get("/api/v1/leads", headers=bad,
                               environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert elsewhere.status_code == 401

    def test_successful_requests_do_not_count_as_failures(self, client, make_key):
        for _ in range(2):
            assert [r.status_code for r in hit(client, make_key("acme"), 4)] == [200] * 4


def test_every_authenticated_response_carries_the_headers(client, auth):
    responses = [client.get("/api/v1/leads", headers=auth),
                 client.get("/api/v1/leads/nope", headers=auth),
                 client.post("/api/v1/leads", headers=auth, json={}),
                 client.post("/api/v1/leads", headers=auth, data="x")]
    for response in responses:
        assert "X-RateLimit-Limit" in response.headers, response.status_code
        assert "Retry-After" not in response.headers


def test_openapi_document_is_not_limited(client):
    assert all(r.status_code == 200 for r in hit(client, {}, 8, "/api/v1/openapi.json"))


class TestBehindAProxy:
    @pytest.fixture
    def config(self, config):
        return {**config, "RATELIMIT_AUTH_FAILURES": "2 per minute", "TRUSTED_PROXIES": 1}

    def test_the_forwarded_address_is_the_clients(self, client):
        bad = {"Authorization": "Bearer vapk_live_" + "0" * 48}
        guesser = {**bad, "X-Forwarded-For": "203.0.113.5"}
        assert [r.status_code for r in hit(client, guesser, 3)] == [401, 401, 429]
        neighbour = {**bad, "X-Forwarded-For": "203.0.113.6"}
        assert hit(client, neighbour, 1)[0].status_code == 401


class TestNotBehindAProxy:
    @pytest.fixture
    def config(self, config):
        return {**config, "RATELIMIT_AUTH_FAILURES": "2 per minute"}

    def test_x_forwarded_for_is_ignored_by_default(self, client):
        bad = {"Authorization": "Bearer vapk_live_" + "0" * 48}
        answers = [client.get("/api/v1/leads", headers={**bad, "X-Forwarded-For": f"10.0.0.{n}"})
                   for n in range(3)]
        assert [r.status_code for r in answers] == [401, 401, 429]


@pytest.mark.parametrize("value", [-1, "1", 1.5, True])
def test_trusted_proxies_must_be_a_count(config, value):
    from vorel_lite import create_app
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        create_app({**config, "TRUSTED_PROXIES": value})
