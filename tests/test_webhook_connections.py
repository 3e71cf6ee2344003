"""Webhook delivery in batches over kept-alive connections: fewer connections and writes,
the same rules (deadline per attempt, claims checked at the final write, each attempt once,
the private-target check on each new connection)."""
import json
import threading
import time

import pytest

from receiver import HANG
from test_webhooks import drain, make_conversation, subscribe
from vorel_lite import outbound
from vorel_lite.models import WebhookAttempt, WebhookDelivery, utc_now
from vorel_lite.webhooks.connections import SenderPool
from vorel_lite.webhooks.delivery import claim_due, record_outcomes, send_batch
from vorel_lite.webhooks.sending import Outcome


@pytest.fixture
def config(config):
    return {**config, "WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_TIMEOUT_SECONDS": 1,
            "WEBHOOK_POLL_SECONDS": 0.05, "WEBHOOK_BATCH_SIZE": 10}


def queue(client, auth, count, prefix="+97150"):
    """Create count conversations (one event each); return their ids in order."""
    return [make_conversation(client, auth, f"{prefix}{n:07d}")["id"] for n in range(count)]


def received_ids(receiver):
    return [json.loads(body)["data"]["id"] for body in receiver.bodies()]


def attempt_rows(app):
    """Return (delivery id, attempt, status code, error) of every attempt."""
    with app.app_context():
        return [(a.delivery_id, a.attempt, a.status_code, a.error)
                for a in WebhookAttempt.select().order_by(WebhookAttempt.started_at)]


def delivery_rows(app):
    with app.app_context():
        return list(WebhookDelivery.select().order_by(WebhookDelivery.next_attempt_at))


def test_deliveries_to_one_receiver_go_in_order_over_one_connection(app, client, auth, runner,
                                                                    receivers):
    receiver = receivers(keep_alive=True)
    subscribe(runner, receiver.url)
    made = queue(client, auth, 30)
    drain(app)  # three batches of 10
    assert received_ids(receiver) == made
    assert receiver.connections == 1
    assert [(n, code) for _, n, code, _ in attempt_rows(app)] == [(1, 200)] * 30
    assert {d.status for d in delivery_rows(app)} == {"delivered"}


@pytest.mark.parametrize("close_delay", [0, 0.05])
def test_a_receiver_closing_kept_alive_connections_loses_and_doubles_nothing(
        app, client, auth, runner, receivers, close_delay):
    # The connection is closed after every third answer, without `Connection: close`; with a
    # delay, the next request may already be on its way when it is.
    receiver = receivers(keep_alive=True, requests_per_connection=3, close_delay=close_delay)
    subscribe(runner, receiver.url)
    made = queue(client, auth, 25)
    drain(app)
    assert sorted(received_ids(receiver)) == sorted(made)
    assert receiver.connections >= 9
    rows = attempt_rows(app)
    assert sorted(delivery for delivery, _, _, _ in rows) == sorted(
        d.id for d in delivery_rows(app))
    assert {(n, code) for _, n, code, _ in rows} == {(1, 200)}
    assert {d.status for d in delivery_rows(app)} == {"delivered"}


def test_a_receiver_hanging_on_a_kept_alive_connection_is_cut_at_the_deadline(
        app, client, auth, runner, receivers):
    receiver = receivers([200, 200, HANG], keep_alive=True)
    subscribe(runner, receiver.url)
    made = queue(client, auth, 3)
    started = time.monotonic()
    drain(app)
    assert time.monotonic() - started < 15
    requests = receiver.requests()
    # The third request hung on the connection the first two had used.
    assert [r["connection"] for r in requests[:3]] == [1, 1, 1]
    assert sorted(set(received_ids(receiver))) == sorted(made) and len(requests) == 4
    outcomes = [(n, code) for _, n, code, _ in attempt_rows(app)]
    assert outcomes == [(1, 200), (1, 200), (1, None), (2, 200)]
    assert "deadline of 1 s" in attempt_rows(app)[2][3]


class TestPrivateTargetsUnderReuse:
    @pytest.fixture
    def config(self, config):
        return {**config, "WEBHOOK_PRIVATE_TARGETS": "deny"}

    def test_each_new_connection_is_checked_and_refused_once_the_name_turns_private(
            self, app, client, auth, runner, receivers, monkeypatch):
        receiver = receivers(keep_alive=True, requests_per_connection=3)
        checked = []

        def is_public(ip):
            # Stands for a name that resolved to a public address for the first three
            # deliveries, then to a private one (loopback is all a test may reach).
            checked.append(ip)
            return len(receiver.requests()) < 3

        monkeypatch.setattr(outbound, "is_public", is_public)
        subscribe(runner, receiver.url)
        del checked[:]  # the check as it was added; only connections are counted below
        queue(client, auth, 5)
        drain(app)
        assert [r["connection"] for r in receiver.requests()] == [1, 1, 1]
        refused = [error for _, _, code, error in attempt_rows(app) if code is None]
        assert len(refused) == 2 * 6 and all("not a public address" in e for e in refused)
        # One check for the connection the first three shared, one for each one tried after.
        assert len(checked) == 1 + len(refused)
        assert sorted(d.status for d in delivery_rows(app)) == ["dead"] * 2 + ["delivered"] * 3


def test_a_batch_records_only_the_deliveries_whose_claims_it_still_holds(
        app, client, auth, runner, receivers):
    subscribe(runner, receivers().url)
    queue(client, auth, 3)
    with app.app_context():
        batch = claim_due(1, batch=10)
        assert len(batch) == 3 and len({d.claim_token for d in batch}) == 1
        (WebhookDelivery.update(claim_token="another-worker")
         .where(WebhookDelivery.id == batch[1].id).execute())
        statuses = record_outcomes([(d, Outcome(200, None, 3), utc_now()) for d in batch])
        assert statuses == ["delivered", None, "delivered"]
        taken = WebhookDelivery.get_by_id(batch[1].id)
        assert (taken.status, taken.claim_token) == ("pending", "another-worker")
    assert sorted(d for d, _, _, _ in attempt_rows(app)) == sorted([batch[0].id, batch[2].id])


@pytest.mark.parametrize("why", ["too late", "stopping"])
def test_deliveries_not_sent_are_given_back_with_the_claim_they_were_counted(
        app, client, auth, runner, receivers, why):
    receiver = receivers(keep_alive=True)
    subscribe(runner, receiver.url)
    queue(client, auth, 3)
    stop = threading.Event()
    if why == "stopping":
        stop.set()
    send_by = time.monotonic() + (-1 if why == "too late" else 60)
    with app.app_context():
        batch = claim_due(1, batch=10)
        assert {(d.attempts, d.claims) for d in batch} == {(0, 1)}
        with SenderPool("allow", "webhooks", 1) as senders:
            assert send_batch(app, batch, senders, send_by, stop) == 0
    assert receiver.requests() == [] and attempt_rows(app) == []
    assert {(d.status, d.attempts, d.claims, d.claim_token, d.claimed_until)
            for d in delivery_rows(app)} == {("pending", 0, 0, None, None)}
    drain(app)
    assert [r["headers"]["X-Webhook-Attempt"] for r in receiver.requests()] == ["1"] * 3


def test_a_claim_takes_a_batch_of_each_of_a_few_subscriptions_skipping_busy_ones(
        app, client, auth, other_auth, runner, receivers):
    first, _ = subscribe(runner, receivers().url)
    second, _ = subscribe(runner, receivers().url, tenant="globex")
    queue(client, auth, 5)  # older: a backlog for the first subscription
    queue(client, other_auth, 2, prefix="+97155")
    with app.app_context():
        claimed = claim_due(1, batch=2)
        assert [d.subscription_id for d in claimed] == [first, first]
        # The first is busy (being sent to): its older backlog must not hide the second's.
        claimed = claim_due(1, frozenset({first}), batch=2)
        assert [d.subscription_id for d in claimed] == [second, second]
        assert [d.subscription_id for d in claim_due(2, frozenset({second}), batch=10)] == [
            first] * 3


def test_a_delivery_whose_claim_was_lost_is_retaken_alone_then_given_up(
        app, client, auth, other_auth, runner, receivers):
    first, _ = subscribe(runner, receivers().url)
    second, _ = subscribe(runner, receivers().url, tenant="globex")
    queue(client, auth, 4)
    queue(client, other_auth, 3, prefix="+97155")
    with app.app_context():
        ordered = [d.id for d in WebhookDelivery.select().order_by(
            WebhookDelivery.next_attempt_at)]
        # Workers were killed holding the first one's second and third, and the second's first.
        lost = [ordered[1], ordered[2], ordered[4]]
        WebhookDelivery.update(claims=1).where(WebhookDelivery.id.in_(lost)).execute()
        claimed = claim_due(2, batch=10, retake_lost=False)
        assert [d.id for d in claimed] == [ordered[0], ordered[3], ordered[5], ordered[6]]
        assert {(d.attempts, d.claims) for d in claimed} == {(0, 1)}
        # One at a time, each alone in its batch, as the same attempt.
        [retaken] = claim_due(2, batch=10)
        assert (retaken.id, retaken.attempts, retaken.claims) == (ordered[1], 0, 2)
        assert record_outcomes([(retaken, Outcome(200, None, 3), utc_now())]) == ["delivered"]
        assert [d.id for d in claim_due(2, batch=10)] == [ordered[2]]
        # Lost WEBHOOK_MAX_ATTEMPTS times in a row: dead-lettered, not claimed.
        (WebhookDelivery.update(claims=6, claim_token=None, claimed_until=None)
         .where(WebhookDelivery.id == ordered[4]).execute())
        assert claim_due(2, batch=10) == []
        given_up = WebhookDelivery.get_by_id(ordered[4])
        assert (given_up.status, given_up.attempts, given_up.claim_token) == ("dead", 0, None)
        assert "stopped 6 times in a row" in given_up.last_error
        assert WebhookDelivery.get_by_id(ordered[1]).claims == 0
    assert [(d, n) for d, n, _, _ in attempt_rows(app)] == [(ordered[1], 1)]


def test_the_pool_lends_the_handle_that_last_sent_to_a_target_and_keeps_few():
    with SenderPool("allow", "webhooks", 2) as pool:
        one, two, three = (pool.take(f"http://{host}.example/hooks") for host in "abc")
        for host, sender in zip("abc", (one, two, three)):
            pool.give(f"http://{host}.example/hooks", sender)
        assert len(pool.idle) == 2  # the least recently used one was closed
        assert pool.take("http://b.example/other-path") is two
        assert pool.take("http://c.example/hooks") is three
        assert pool.take("http://a.example/hooks") not in (one, two, three)
