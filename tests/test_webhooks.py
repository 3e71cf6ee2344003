"""Webhook delivery: signed, retried with back-off, dead-lettered, redriven, never lost."""
import hashlib
import hmac
import json
import threading
import time

import pytest

from receiver import HANG
from vorel_lite.models import WebhookAttempt, WebhookDelivery
from vorel_lite.webhooks.delivery import run_worker


@pytest.fixture
def config(config):
    return {**config, "WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_TIMEOUT_SECONDS": 0.5,
            "WEBHOOK_POLL_SECONDS": 0.05}


def subscribe(runner, url, *events, tenant="acme"):
    """Add a subscription through the CLI and return (id, secret)."""
    args = ["webhooks", "add", "--tenant", tenant, url]
    for event in events:
        args += ["--event", event]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    subscription_id, secret = result.stdout.split()
    return subscription_id, secret


def drain(app, rounds=1):
    """Run the worker until nothing is due, rounds times."""
    with app.app_context():
        for _ in range(rounds):
            run_worker(threading.Event(), once=True)


def deliveries(app):
    with app.app_context():
        return list(WebhookDelivery.select().order_by(WebhookDelivery.created_at))


def attempts(app):
    with app.app_context():
        return [(a.attempt, a.status_code, a.error) for a in
                WebhookAttempt.select().order_by(WebhookAttempt.attempt)]


def make_conversation(client, auth, identifier="+971500000001"):
    return client.post("/api/v1/conversations", headers=auth, json={
        "channel": "whatsapp", "customer_identifier": identifier}).get_json()


def test_delivered_on_first_attempt_and_verifiable_by_the_receiver(app, client, auth, runner,
                                                                   receivers):
    receiver = receivers()
    _, secret = subscribe(runner, receiver.url)
    conversation = make_conversation(client, auth)
    drain(app)
    [request] = receiver.received
    body, headers = request["body"], request["headers"]
    # What a user's receiver does, in five lines:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-Webhook-Signature"])
    envelope = json.loads(body)
    assert envelope == client.get("/api/v1/events", headers=auth).get_json()["data"][0]
    assert envelope["event"] == "conversation.created" and envelope["data"] == conversation
    assert headers["X-Webhook-Id"] == envelope["id"]
    assert headers["X-Webhook-Event"] == "conversation.created"
    assert headers["X-Webhook-Attempt"] == "1"
    assert headers["User-Agent"].startswith("vorel-lite/")
    assert headers["Content-Type"] == "application/json"
    [delivery] = deliveries(app)
    assert delivery.status == "delivered" and delivery.finished_at is not None


def test_500_500_200_is_delivered_on_attempt_3(app, client, auth, runner, receivers):
    receiver = receivers([500, 500, 200])
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    drain(app)
    assert [r["headers"]["X-Webhook-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert len({r["headers"]["X-Webhook-Id"] for r in receiver.received}) == 1
    assert [(n, code) for n, code, _ in attempts(app)] == [(1, 500), (2, 500), (3, 200)]
    assert "HTTP 500" in attempts(app)[0][2]
    assert deliveries(app)[0].status == "delivered"


def test_410_is_dead_after_one_attempt(app, client, auth, runner, receivers):
    receiver = receivers([410])
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    drain(app, rounds=3)
    assert len(receiver.received) == 1
    [delivery] = deliveries(app)
    assert delivery.status == "dead" and delivery.last_status_code == 410


@pytest.mark.parametrize("status", [408, 429])
def test_receiver_asking_to_wait_is_retried(app, client, auth, runner, receivers, status):
    receiver = receivers([status])
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    drain(app)
    assert [r["answer"] for r in receiver.received] == [status, 200]


def test_a_receiver_that_never_answers_is_timed_out_and_retried(app, client, auth, runner,
                                                                receivers):
    receiver = receivers([HANG])
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    started = time.monotonic()
    drain(app)
    assert time.monotonic() - started < 10
    assert [(n, code) for n, code, _ in attempts(app)] == [(1, None), (2, 200)]
    assert "timed out" in attempts(app)[0][2]


def test_six_failures_dead_letter_and_redrive_delivers(app, client, auth, runner, receivers):
    receiver = receivers(default=503)
    subscription_id, _ = subscribe(runner, receiver.url)
    make_conversation(client, auth)
    drain(app, rounds=2)
    assert len(receiver.received) == 6
    assert deliveries(app)[0].status == "dead"
    assert "dead=1" in runner.invoke(args=["webhooks", "list"]).output
    receiver.default = 200
    result = runner.invoke(args=["webhooks", "redrive", subscription_id])
    assert result.exit_code == 0 and "1" in result.output
    drain(app)
    assert [r["headers"]["X-Webhook-Attempt"] for r in receiver.received][-1] == "7"
    assert deliveries(app)[0].status == "delivered"
    assert "delivered=1" in runner.invoke(args=["webhooks", "list"]).output


def test_an_unreachable_receiver_is_retried_with_its_error(app, client, auth, runner):
    subscribe(runner, "http://127.0.0.1:9/nobody")
    make_conversation(client, auth)
    drain(app)
    assert len(attempts(app)) == 6
    assert all(code is None and error for _, code, error in attempts(app))


class TestBackOff:
    @pytest.fixture
    def config(self, config):
        return {**config, "WEBHOOK_RETRY_BASE_SECONDS": 30}

    def test_a_retry_waits_for_its_back_off(self, app, client, auth, runner, receivers):
        receiver = receivers([500])
        subscribe(runner, receiver.url)
        make_conversation(client, auth)
        drain(app, rounds=2)
        assert len(receiver.received) == 1
        [delivery] = deliveries(app)
        wait = time.mktime(time.strptime(delivery.next_attempt_at[:19], "%Y-%m-%dT%H:%M:%S"))
        wait -= time.mktime(time.gmtime())
        assert 20 <= wait <= 40 and delivery.status == "pending"


def test_only_subscribed_events_of_the_tenant_are_delivered(app, client, auth, other_auth,
                                                            runner, receivers):
    leads_only, everything = receivers(), receivers()
    subscribe(runner, leads_only.url, "lead.created", "lead.qualified")
    subscribe(runner, everything.url)
    conversation = make_conversation(client, auth)
    make_conversation(client, other_auth)
    client.post("/api/v1/leads", headers=auth, json={"conversation_id": conversation["id"]})
    drain(app)
    assert [json.loads(b)["event"] for b in leads_only.bodies()] == ["lead.created"]
    assert sorted(json.loads(b)["event"] for b in everything.bodies()) == [
        "conversation.created", "lead.created"]


def test_a_rejected_or_rolled_back_write_queues_nothing(app, client, auth, runner, receivers,
                                                        monkeypatch):
    receiver = receivers()
    subscribe(runner, receiver.url)
    conversation = make_conversation(client, auth)
    client.post("/api/v1/conversations", headers=auth, json={"channel": "fax"})
    from vorel_lite.api import leads
    monkeypatch.setattr(leads, "lead_schema", None)  # fails after the insert, inside the txn
    assert client.post("/api/v1/leads", headers=auth,
                       json={"conversation_id": conversation["id"]}).status_code == 500
    assert len(deliveries(app)) == 1


def test_a_worker_whose_claim_ran_out_does_not_send(app, client, auth, runner, receivers):
    from vorel_lite.webhooks.delivery import attempt_number, claim_due, deliver_due, renew_claim
    subscribe(runner, receivers().url)
    make_conversation(client, auth)
    with app.app_context():
        [slow] = claim_due(10)
        (WebhookDelivery.update(claimed_until="2000-01-01T00:00:00.000000Z")
         .where(WebhookDelivery.id == slow.id).execute())
        [fast] = claim_due(10)
        assert fast.claim_token != slow.claim_token
        # The lost claim recorded nothing, so it used no attempt: the same one is made again.
        assert (attempt_number(fast), fast.claims) == (1, 2)
        assert renew_claim(slow) is False
        assert renew_claim(fast) is True
        assert claim_due(10) == [] and deliver_due() == 0
