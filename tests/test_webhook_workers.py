"""Workers as real processes: two at once send each delivery once; kill -9 loses nothing,
resends only what it had not recorded, and charges no attempt it did not make."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from processes import free_port, terminate_group
from receiver import HANG, Receiver
from vorel_lite import config as defaults
from vorel_lite.models import WebhookAttempt, WebhookDelivery

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_TIMEOUT_SECONDS": 0.5,
            "WEBHOOK_POLL_SECONDS": 0.05}


@pytest.fixture
def config(config):
    return {**config, **SETTINGS}


@pytest.fixture
def receiver():
    made = Receiver(delay=0.01)
    yield made
    made.close()


def flask(config, *args, settings=SETTINGS, **popen):
    """Start `flask --app app ARGS` on the test's database and instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env.update({"VOREL_DATABASE_URL": config["DATABASE_URL"],
                "VOREL_INSTANCE_PATH": config["INSTANCE_PATH"],
                **{f"VOREL_{k}": str(v) for k, v in settings.items()}})
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, **popen)


def queue_events(client, auth, runner, url, count):
    """Subscribe url and create count conversations; return their ids."""
    assert runner.invoke(args=["webhooks", "add", "--tenant", "acme", url]).exit_code == 0
    return [client.post("/api/v1/conversations", headers=auth, json={
        "channel": "voice", "customer_identifier": f"+1555{i:07d}"}).get_json()["id"]
        for i in range(count)]


def received_ids(receiver):
    return [json.loads(body)["data"]["id"] for body in receiver.bodies()]


def statuses(app):
    with app.app_context():
        return sorted({d.status for d in WebhookDelivery.select()})


def test_two_workers_at_once_send_each_delivery_exactly_once(app, client, auth, runner,
                                                             receiver, config):
    made = queue_events(client, auth, runner, receiver.url, 120)
    workers = [flask(config, "webhooks", "deliver", "--once", stderr=subprocess.PIPE)
               for _ in range(2)]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()
    assert sorted(received_ids(receiver)) == sorted(made)
    assert statuses(app) == ["delivered"]


def test_a_worker_killed_mid_way_loses_nothing(app, client, auth, runner, config):
    slow = Receiver(delay=0.1)
    try:
        made = queue_events(client, auth, runner, slow.url, 40)
        worker = flask(config, "webhooks", "deliver")
        deadline = time.monotonic() + 60
        while len(slow.received) < 5:
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert len(set(received_ids(slow))) < len(made)
        # A restarted worker takes over once the dead worker's claims expire.
        deadline = time.monotonic() + 60
        while statuses(app) != ["delivered"]:
            assert time.monotonic() < deadline, statuses(app)
            restarted = flask(config, "webhooks", "deliver", "--once")
            assert restarted.wait(timeout=60) == 0
            time.sleep(0.5)
        received = received_ids(slow)
        assert set(received) == set(made)
        # What the dead worker had sent but not recorded is sent again: one group at most.
        assert len(received) - len(made) <= defaults.WEBHOOK_RECORD_EVERY, len(received)
    finally:
        slow.close()


def test_serve_delivers_in_the_background_of_the_one_process(client, auth, runner, receiver,
                                                             config):
    queue_events(client, auth, runner, receiver.url, 0)
    port = free_port()
    server = flask(config, "serve", "--port", str(port), start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        made = queue_events(client, auth, runner, receiver.url, 1)
        # The event was written by this test's app; the server's worker thread delivers it.
        deadline = time.monotonic() + 30
        while made[0] not in received_ids(receiver):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        terminate_group(server, 30)


class Workers:
    """`flask webhooks deliver --once` processes, one after another, that a receiver can kill.

    Their deadline per attempt is 5 s, so that a batch is sent for 5 s before the rest of it
    is given back (not 0.5 s, which a loaded machine could reach within a few deliveries).
    """

    def __init__(self, config):
        self.config, self.process, self.kills = config, None, 0
        self.started = threading.Event()

    def run(self):
        """Run one worker until it ends; return its exit code (-9 if a receiver killed it)."""
        self.started.clear()
        self.process = flask(self.config, "webhooks", "deliver", "--once",
                             settings={**SETTINGS, "WEBHOOK_TIMEOUT_SECONDS": 5})
        self.started.set()
        return self.process.wait(timeout=120)

    def kill(self):
        """SIGKILL the running worker: from a receiver, while the worker awaits its answer."""
        self.started.wait(10)
        self.kills += 1
        os.kill(self.process.pid, signal.SIGKILL)
        return HANG


def sent_attempts(receiver):
    """Return (conversation id, X-Webhook-Attempt) of every request received, in order."""
    return [(json.loads(r["body"])["data"]["id"], int(r["headers"]["X-Webhook-Attempt"]))
            for r in receiver.requests()]


def recorded(app):
    """Return the attempts recorded, sorted: (conversation id, attempt number, status code)."""
    with app.app_context():
        return sorted((a.delivery.event.data["id"], a.attempt, a.status_code)
                      for a in WebhookAttempt.select())


def final_states(app):
    """Return {(subscription id, conversation id): (status, attempts, claims)}."""
    with app.app_context():
        return {(d.subscription_id, d.event.data["id"]): (d.status, d.attempts, d.claims)
                for d in WebhookDelivery.select()}


def expire_claims(app):
    """Let a killed worker's claims run out now rather than at the end of their lease."""
    with app.app_context():
        (WebhookDelivery.update(claimed_until="2000-01-01T00:00:00.000000Z")
         .where(WebhookDelivery.claim_token.is_null(False)).execute())


def test_a_worker_killed_mid_batch_resends_its_unrecorded_tail_and_charges_nothing(
        app, client, auth, runner, config):
    answered_before_kill = 45
    workers = Workers(config)
    receiver = Receiver(default=lambda request: (
        workers.kill() if not workers.kills and len(receiver.requests()) > answered_before_kill
        else 200))
    try:
        made = queue_events(client, auth, runner, receiver.url, 60)
        assert workers.run() == -signal.SIGKILL
        # One batch (the default size holds all 60) was claimed; its first 45 were answered,
        # the 46th was being sent.
        assert len(receiver.requests()) == answered_before_kill + 1
        unrecorded = answered_before_kill + 1 - len(recorded(app))
        assert 1 <= unrecorded <= defaults.WEBHOOK_RECORD_EVERY
        # A worker started before the claims expire takes nothing (the test above waits for
        # the lease; this one runs it out).
        assert workers.run() == 0 and len(receiver.requests()) == answered_before_kill + 1
        expire_claims(app)
        assert workers.run() == 0
    finally:
        receiver.close()
    sent = sent_attempts(receiver)
    assert sorted(set(sent)) == sorted((made_id, 1) for made_id in made)
    # Only what the dead worker had sent but not recorded was sent twice.
    assert len(sent) - len(made) == unrecorded
    # No delivery was charged an attempt it did not make: not those sent but unrecorded, not
    # those claimed but never sent.
    assert recorded(app) == sorted((made_id, 1, 200) for made_id in made)
    assert set(final_states(app).values()) == {("delivered", 1, 0)}


def test_the_six_attempts_stay_exact_across_a_killed_worker(app, client, auth, runner, config):
    workers = Workers(config)
    # Three deliveries, each attempt answered 503; the eighth request (the third round)
    # kills the worker.
    receiver = Receiver(default=lambda request: (
        workers.kill() if not workers.kills and len(receiver.requests()) == 8 else 503))
    try:
        made = queue_events(client, auth, runner, receiver.url, 3)
        assert workers.run() == -signal.SIGKILL
        unrecorded = 8 - len(recorded(app))
        assert 1 <= unrecorded <= 2
        expire_claims(app)
        assert workers.run() == 0
    finally:
        receiver.close()
    assert recorded(app) == sorted((made_id, n, 503) for made_id in made for n in range(1, 7))
    assert set(final_states(app).values()) == {("dead", 6, 0)}
    sent = Counter(sent_attempts(receiver))
    # Each receives attempts 1 to 6; an attempt the dead worker sent without recording it,
    # and only such, comes twice with its number.
    assert set(sent) == {(made_id, n) for made_id in made for n in range(1, 7)}
    assert sorted(n for (_, n), times in sent.items() if times > 1) == [3] * unrecorded
    assert max(sent.values()) == 2


def test_a_delivery_that_kills_its_worker_every_time_is_dead_lettered_alone(
        app, client, auth, runner, config, receivers):
    workers = Workers(config)
    poison = []
    first = receivers(default=lambda request: (
        workers.kill() if json.loads(request["body"])["data"]["id"] in poison else 200))
    second = receivers()
    assert runner.invoke(args=["webhooks", "add", "--tenant", "acme", second.url]).exit_code == 0
    # 30 events for each receiver; the first's fifth delivery kills the worker sending it.
    made = queue_events(client, auth, runner, first.url, 30)
    poison.append(made[4])
    outcomes = []
    while not outcomes or outcomes[-1] != 0:
        assert len(outcomes) < 2 * defaults.WEBHOOK_MAX_ATTEMPTS, outcomes
        outcomes.append(workers.run())
        expire_claims(app)
    # Killed once with the rest of its batch in hand, then alone each time, until its sixth
    # claim in a row that recorded nothing.
    assert outcomes == [-signal.SIGKILL] * defaults.WEBHOOK_MAX_ATTEMPTS + [0]
    assert [n for made_id, n in sent_attempts(first) if made_id in poison] == [1] * 6
    with app.app_context():
        dead = list(WebhookDelivery.select().where(WebhookDelivery.status == "dead"))
        assert [d.event.data["id"] for d in dead] == poison
        [dead] = dead
        assert "stopped 6 times in a row" in dead.last_error
        assert WebhookAttempt.select().where(WebhookAttempt.delivery == dead.id).count() == 0
    states = final_states(app)
    assert states.pop((dead.subscription_id, poison[0])) == ("dead", 0, 6)
    # Everything else, of either subscription, was delivered at its first attempt.
    assert len(states) == 59 and set(states.values()) == {("delivered", 1, 0)}
    assert {n for _, n in sent_attempts(first) + sent_attempts(second)} == {1}
    assert len(recorded(app)) == 59
    assert runner.invoke(args=["webhooks", "redrive", dead.subscription_id]).exit_code == 0
    assert final_states(app)[(dead.subscription_id, poison[0])] == ("pending", 0, 0)
