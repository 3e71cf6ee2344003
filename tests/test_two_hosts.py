"""Two gunicorn instances on two ports sharing PostgreSQL and Redis, standing for two hosts."""
import threading
import uuid

import pytest

from databases import REDIS_URL, redis_or_reason
from processes import send_json
from services import skip_or_fail
from test_multiprocess import Gunicorn, run_clients
from vorel_lite import create_app
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Tenant

CONVERSATIONS = "/api/v1/conversations"


@pytest.fixture
def hosts(tmp_path, postgres):
    """Start host a and host b (2 workers each); return them and three keys of one tenant."""
    reason = redis_or_reason()
    if reason:
        skip_or_fail(reason)
    postgres.empty()
    app = create_app({"DATABASE_URL": postgres.url, "INSTANCE_PATH": str(tmp_path / "setup")})
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        keys = [issue_key(tenant, SCOPES)[1] for _ in range(3)]
    app.extensions["vorel_db"].close_all()
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_PER_KEY": "200 per minute",
              "RATELIMIT_KEY_PREFIX": f"vorel-test-{uuid.uuid4().hex}",
              "SECRET_KEY": "one-secret-for-every-host"}
    with Gunicorn(tmp_path, postgres.url, tmp_path / "a", 2, "a", shared) as a, \
            Gunicorn(tmp_path, postgres.url, tmp_path / "b", 2, "b", shared) as b:
        a.wait_until_serving(keys[0])
        b.wait_until_serving(keys[0])
        yield a, b, keys


def test_the_per_key_limit_holds_exactly_across_both_hosts(hosts):
    a, b, keys = hosts
    statuses = run_clients(250, lambda n: (a, b)[n % 2].request(
        "GET", f"{CONVERSATIONS}?limit=1", keys[1])[0])
    assert sorted(statuses).count(200) == 200 and statuses.count(429) == 50, statuses


def test_a_retry_sent_to_the_other_host_replays(hosts):
    a, b, keys = hosts
    body = {"channel": "voice", "customer_identifier": "+971500000009"}
    headers = {"Authorization": f"Bearer {keys[2]}", "Idempotency-Key": "two-hosts-1"}
    first = send_json(a.connect(), "POST", CONVERSATIONS, headers, body)
    again = send_json(b.connect(), "POST", CONVERSATIONS, headers, body)
    assert first[0] == again[0] == 201 and first[2] == again[2]
    assert again[1].get("Idempotent-Replayed") == "true"


def test_sends_through_both_hosts_number_without_gaps_and_one_lead_wins(hosts):
    a, b, keys = hosts
    status, conversation = a.request("POST", CONVERSATIONS, keys[2], {
        "channel": "whatsapp", "customer_identifier": "+971500000010"})
    assert status == 201
    path = f"{CONVERSATIONS}/{conversation['id']}/send"
    barrier = threading.Barrier(40)

    def send(n):
        barrier.wait(30)
        return (a, b)[n % 2].request("POST", path, keys[2], {"text": f"message {n}"})

    answers = run_clients(40, send)
    assert all(status == 202 for status, _ in answers), answers
    assert sorted(body["sequence_number"] for _, body in answers) == list(range(1, 41))
    leads = run_clients(20, lambda n: (a, b)[n % 2].request(
        "POST", "/api/v1/leads", keys[2], {"conversation_id": conversation["id"]})[0])
    assert sorted(leads) == [201] + [409] * 19
    assert not a.problems() and not b.problems()
