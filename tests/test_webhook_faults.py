"""Webhook delivery against hostile and broken receivers: deadlines, isolation, replay-proofing."""
import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from receiver import NOT_HTTP, TRICKLE
from test_webhooks import attempts, deliveries, drain, make_conversation, subscribe
from vorel_lite.models import (CrmConnection, WebhookAttempt, WebhookDelivery,
                               WebhookSubscription)
from vorel_lite.webhooks.delivery import claim_due, deliver_due, record_outcome
from vorel_lite.webhooks.sending import Outcome


@pytest.fixture
def config(config):
    return {**config, "WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_TIMEOUT_SECONDS": 1,
            "WEBHOOK_POLL_SECONDS": 0.05}


def test_a_trickling_receiver_is_cut_off_at_the_deadline(app, client, auth, runner,
                                                         receivers):
    # About 90 bytes at 0.3 s each: 27 s to answer in full, every read well within a per-read
    # timeout. The 1 s deadline is for the whole attempt.
    receiver = receivers([TRICKLE], trickle_seconds=0.3)
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    started = time.monotonic()
    drain(app)
    assert time.monotonic() - started < 15
    [(first, code, error), (second, ok, _)] = attempts(app)
    assert (first, code, second, ok) == (1, None, 2, 200)
    assert "deadline of 1 s" in error
    assert deliveries(app)[0].status == "delivered"


def test_two_workers_racing_one_trickling_receiver_send_each_attempt_once(
        app, client, auth, runner, receivers):
    receiver = receivers([TRICKLE, TRICKLE], trickle_seconds=0.3)
    subscribe(runner, receiver.url)
    make_conversation(client, auth)
    workers = [threading.Thread(target=drain, args=(app, 3)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    numbers = [r["headers"]["X-Webhook-Attempt"] for r in receiver.requests()]
    assert numbers == ["1", "2", "3"]
    assert [(n, code) for n, code, _ in attempts(app)] == [(1, None), (2, None), (3, 200)]
    [delivery] = deliveries(app)
    assert delivery.status == "delivered" and delivery.attempts == 3


def test_a_worker_that_lost_its_claim_records_nothing(app, client, auth, runner, receivers):
    subscribe(runner, receivers().url)
    make_conversation(client, auth)
    with app.app_context():
        [delivery] = claim_due(10)
        (WebhookDelivery.update(claim_token="someone-else")
         .where(WebhookDelivery.id == delivery.id).execute())
        assert record_outcome(delivery, Outcome(200, None, 5), "2030-01-01T00:00:00.000000Z") \
            is None
        assert WebhookAttempt.select().count() == 0
        assert WebhookDelivery.get().status == "pending"


def point_subscription_at(app, url):
    """Store a URL as an old version (or a hand edit) could have left it."""
    with app.app_context():
        WebhookSubscription.update(url=url).execute()


@pytest.mark.parametrize("bad", [NOT_HTTP, "crlf url", "undecryptable"])
def test_one_broken_receiver_never_holds_up_another_tenants_events(
        app, client, auth, other_auth, runner, receivers, bad):
    check_one_broken_receiver(app, client, auth, other_auth, runner, receivers, bad)


@pytest.mark.sqlite_only  # PostgreSQL cannot store a NUL, so no URL there holds one
def test_a_url_with_a_nul_never_holds_up_another_tenants_events(
        app, client, auth, other_auth, runner, receivers):
    check_one_broken_receiver(app, client, auth, other_auth, runner, receivers, "nul url")


def check_one_broken_receiver(app, client, auth, other_auth, runner, receivers, bad):
    broken, healthy = receivers([NOT_HTTP] * 10), receivers()
    subscribe(runner, broken.url)
    subscribe(runner, healthy.url, tenant="globex")
    with app.app_context():
        broken_id = WebhookSubscription.get(WebhookSubscription.url == broken.url).id
        if bad in ("crlf url", "nul url"):
            spoiled = broken.url + ("\r\nX-Injected: 1" if bad == "crlf url" else "\x00")
            (WebhookSubscription.update(url=spoiled)
             .where(WebhookSubscription.id == broken_id).execute())
        elif bad == "undecryptable":
            (WebhookSubscription.update(encrypted_secret="not a token")
             .where(WebhookSubscription.id == broken_id).execute())
    make_conversation(client, auth)
    for number in range(3):
        make_conversation(client, other_auth, identifier=f"+97150000000{number}")
    drain(app, rounds=2)
    assert len(healthy.requests()) == 3
    with app.app_context():
        [dead] = (WebhookDelivery.select()
                  .where(WebhookDelivery.subscription == broken_id))
        assert dead.status == "dead" and dead.attempts == 6 and dead.last_error
        errors = [a.error for a in WebhookAttempt.select()
                  .where(WebhookAttempt.delivery == dead.id)]
    assert len(errors) == 6 and all(errors)
    if bad == NOT_HTTP:
        assert "not HTTP" in errors[0]
    if bad in ("crlf url", "nul url"):
        assert broken.requests() == [] and "control character" in errors[0]


def test_every_delivery_verifies_with_the_standard_webhooks_library(
        app, client, auth, runner, receivers):
    receiver = receivers()
    _, secret = subscribe(runner, receiver.url)
    conversation = make_conversation(client, auth)
    drain(app)
    [request] = receiver.requests()
    body, headers = request["body"], request["headers"]
    # What a user's receiver does, given the secret exactly as `webhooks add` printed it:
    envelope = Webhook(secret).verify(body, headers)
    assert envelope["data"] == conversation
    assert headers["webhook-id"] == headers["X-Webhook-Id"] == envelope["id"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    # The hosted product's signature is unchanged: the secret's text as the HMAC key.
    assert headers["X-Webhook-Signature"] == hmac.new(secret.encode(), body,
                                                      hashlib.sha256).hexdigest()
    # The Standard Webhooks key is the base64-decoding of what follows whsec_.
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    assert headers["webhook-signature"] == "v1," + base64.b64encode(
        hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_a_replayed_or_relabelled_delivery_is_refused(app, client, auth, runner, receivers):
    receiver = receivers()
    _, secret = subscribe(runner, receiver.url)
    make_conversation(client, auth)
    drain(app)
    [request] = receiver.requests()
    body, headers = request["body"], dict(request["headers"])
    verifier = Webhook(secret)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)}
    relabelled = {**headers, "webhook-id": "another-id"}
    for forged in (stale, relabelled):
        with pytest.raises(WebhookVerificationError):
            verifier.verify(body, forged)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(json.dumps({**json.loads(body), "event": "lead.created"}), headers)


def test_webhooks_test_reports_a_broken_receiver_in_one_line(app, runner, receivers, auth):
    broken = receivers([NOT_HTTP])
    subscription_id, _ = subscribe(runner, broken.url)
    result = runner.invoke(args=["webhooks", "test", subscription_id])
    assert result.exit_code != 0 and "not HTTP" in result.output
    assert "Traceback" not in result.output
    point_subscription_at(app, broken.url + "\r\nX: y")
    result = runner.invoke(args=["webhooks", "test", subscription_id])
    assert result.exit_code != 0 and "control character" in result.output


def test_a_password_in_a_webhook_url_is_masked_in_listings(runner, receivers, auth):
    receiver = receivers()
    url = receiver.url.replace("http://", "http://n8n:s3cret-pass@")
    subscribe(runner, url)
    listed = runner.invoke(args=["webhooks", "list"]).output
    assert "s3cret-pass" not in listed and "n8n:***@" in listed


def test_deliver_once_with_failed_deliveries_exits_0(app, client, auth, runner, receivers):
    subscribe(runner, receivers(default=500).url)
    make_conversation(client, auth)
    result = runner.invoke(args=["webhooks", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert deliver_due() == 0
        assert WebhookDelivery.get().status == "dead"


class TestPrivateTargetsDenied:
    @pytest.fixture
    def config(self, config):
        return {**config, "WEBHOOK_PRIVATE_TARGETS": "deny"}

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254",
                                      "10.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0"])
    def test_a_non_public_address_is_refused_as_it_is_connected(
            self, app, client, auth, runner, receivers, host):
        receiver = receivers()
        # Added while its name resolved to a public address (DNS can change): sending checks.
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "allow"
        subscribe(runner, receiver.url.replace("127.0.0.1", host))
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "deny"
        make_conversation(client, auth)
        with app.app_context():
            deliver_due()
        [(_, code, error)] = attempts(app)
        assert code is None and "not a public address" in error
        assert receiver.requests() == []

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254",
                                      "10.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0"])
    def test_a_non_public_address_is_refused_when_added(self, app, runner, make_key, host):
        make_key("acme")
        for args in (["webhooks", "add", "--tenant", "acme"], ["crm", "connect", "--tenant",
                                                               "acme"]):
            result = runner.invoke(args=args + [f"http://{host}:8080/hooks"])
            assert result.exit_code != 0, args
            assert ("is not a public address (WEBHOOK_PRIVATE_TARGETS is deny)"
                    in result.output), result.output
        with app.app_context():
            assert WebhookSubscription.select().count() == CrmConnection.select().count() == 0

    def test_the_crm_push_is_refused_too(self, app, client, auth, runner, receivers):
        receiver = receivers()
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "allow"
        runner.invoke(args=["crm", "connect", "--tenant", "acme", receiver.url])
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "deny"
        result = client.post("/api/v1/crm/create-record", headers=auth, json={
            "object": "lead", "fields": {}, "idempotency_key": "k"}).get_json()
        assert result["error"]["code"] == "crm_unavailable"
        assert "not a public address" in result["error"]["message"]
        assert receiver.requests() == []


def test_private_targets_are_allowed_by_default_and_the_setting_is_checked(app, config):
    assert app.config["WEBHOOK_PRIVATE_TARGETS"] == "allow"
    from vorel_lite import create_app
    with pytest.raises(ValueError, match="WEBHOOK_PRIVATE_TARGETS"):
        create_app({**config, "WEBHOOK_PRIVATE_TARGETS": "maybe"})


@pytest.mark.parametrize("ip,public", [
    ("93.184.216.34", True), ("8.8.8.8", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fe80::1%eth0", False), ("fd00::1", False), ("::ffff:10.0.0.1", False),
    ("224.0.0.1", False), ("255.255.255.255", False),
])
def test_which_addresses_are_public(ip, public):
    from vorel_lite.outbound import is_public
    assert is_public(ip) is public


def test_a_slow_receiver_never_delays_another_receivers_deliveries(
        app, client, auth, other_auth, runner, receivers):
    # Each attempt to the slow receiver takes 3 s; it has 3 events to get.
    slow, fast = receivers(delay=3), receivers()
    subscribe(runner, slow.url, "offering.created")
    subscribe(runner, fast.url, tenant="globex")
    for number in range(3):
        client.post("/api/v1/offerings", headers=auth, json={"title": f"o{number}", "price": 1})
    stop = threading.Event()
    worker = threading.Thread(target=drain_until, args=(app, stop))
    worker.start()
    try:
        time.sleep(0.5)  # the worker is now waiting on the slow receiver
        started = time.monotonic()
        for number in range(3):
            make_conversation(client, other_auth, identifier=f"+97155000000{number}")
        while len(fast.requests()) < 3 and time.monotonic() - started < 20:
            time.sleep(0.05)
        assert len(fast.requests()) == 3
        assert time.monotonic() - started < 2.5, "the fast receiver waited for the slow one"
        assert len(slow.requests()) <= 2  # one at a time: a slow receiver holds one slot
    finally:
        stop.set()
        worker.join(30)


def drain_until(app, stop):
    from vorel_lite.webhooks.delivery import run_worker
    with app.app_context():
        run_worker(stop)
