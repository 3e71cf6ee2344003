"""Workers as real processes: two at once send each delivery once; kill -9 loses nothing."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import free_port, terminate_group
from receiver import Receiver
from vorel_lite import config as defaults
from vorel_lite.models import WebhookDelivery

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


def flask(config, *args, **popen):
    """Start `flask --app app ARGS` on the test's database and instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env.update({"VOREL_DATABASE_URL": config["DATABASE_URL"],
                "VOREL_INSTANCE_PATH": config["INSTANCE_PATH"],
                **{f"VOREL_{k}": str(v) for k, v in SETTINGS.items()}})
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
        # What the dead worker had sent but not recorded is sent again: one batch at most.
        assert len(received) - len(made) <= defaults.WEBHOOK_BATCH_SIZE, len(received)
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
