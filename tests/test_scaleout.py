"""Several processes share rate-limit counters through Redis, by configuration alone."""
import uuid

from databases import REDIS_URL, redis_or_reason
from services import skip_or_fail
from vorel_lite import create_app


def test_two_app_instances_share_one_redis_counter(tmp_path, make_key, config):
    reason = redis_or_reason()
    if reason:
        skip_or_fail(reason)
    shared = {**config, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": f"vorel-test-{uuid.uuid4().hex}",
              "RATELIMIT_PER_KEY": "3 per minute"}
    first, second = create_app(shared), create_app(shared)
    headers = make_key("acme")
    statuses = [first.test_client().get("/api/v1/leads", headers=headers).status_code,
                second.test_client().get("/api/v1/leads", headers=headers).status_code,
                first.test_client().get("/api/v1/leads", headers=headers).status_code]
    refused = second.test_client().get("/api/v1/leads", headers=headers)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_an_unreachable_redis_degrades_to_per_process_limits(make_key, config):
    app = create_app({**config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                      "RATELIMIT_PER_KEY": "2 per minute"})
    headers = make_key("acme")
    client = app.test_client()
    statuses = [client.get("/api/v1/leads", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/leads", headers={}).status_code == 401
