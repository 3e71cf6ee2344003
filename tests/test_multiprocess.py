"""The app under gunicorn with 4 worker processes on one database, over loopback HTTP.

Every worker is a separate process with its own connections (and its own in-memory rate-limit
counters, so the limits are raised out of the way): only the database's locking and the
schema's UNIQUE constraints keep the workers from creating a second lead for a conversation or
losing a row. Each test runs on a SQLite file and on the throw-away PostgreSQL database, with
sync workers and with threaded ones (`-k gthread`, the README's command: several requests at
once in each process, connections kept alive); the rows are counted with the database's own
driver (sqlite3, psycopg), not through the app.
`Gunicorn`, `provision` and `Database` are also used by test_crash.py.
"""
import os
import json
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from processes import connect, free_port, kill_group, send_json, terminate_group
from vorel_lite import create_app
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Tenant

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = "/api/v1/conversations"
LEADS = "/api/v1/leads"
HTTP_TIMEOUT = 30  # seconds, for every request, barrier wait and join
START_TIMEOUT = 60  # seconds until every worker of a fresh server answers
STOP_TIMEOUT = 15  # seconds a server gets to stop after SIGTERM, then SIGKILL
UNLIMITED = "1000000 per minute"  # each worker counts alone, so the limits must never trip

RACERS = 64  # simultaneous creates of the lead of one conversation
PAIRS = 1000  # distinct conversations, each with its lead: 2,000 creates in all
CLIENTS = 32  # ... created by this many concurrent clients
# gunicorn's worker class, threads per worker and --reuse-port: the default, and the README's.
WORKER_CLASSES = {"sync": ("sync", 1, False), "gthread": ("gthread", 4, True)}


def provision(tmp_path, url=None):
    """Create the schema, a tenant and an all-scopes key; return (url, instance, key).

    url: the database the servers will use (default: a SQLite file in tmp_path). This runs
    create_app in the test's process; its pooled connections are closed before any server
    starts.
    """
    url = url or f"sqlite:///{tmp_path / 'vorel.db'}"
    instance = tmp_path / "instance"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        _, secret = issue_key(tenant, SCOPES)
    app.extensions["vorel_db"].close_all()
    return url, instance, secret


class Database:
    """Read-only questions to the servers' database, asked with its own driver, not the app."""

    # The id inside an event's JSON text, in each dialect.
    EVENT_DATA_ID = {"sqlite": "json_extract(data, '$.id')", "postgresql": "data::json ->> 'id'"}

    def __init__(self, url):
        self.url = url
        self.kind = "sqlite" if url.startswith("sqlite") else "postgresql"

    def connect(self):
        if self.kind == "sqlite":
            path = self.url.removeprefix("sqlite:///")
            return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        import psycopg
        return psycopg.connect(self.url, autocommit=True, connect_timeout=30)

    def query(self, sql):
        connection = self.connect()
        try:
            return [tuple(row) for row in connection.execute(sql).fetchall()]
        finally:
            connection.close()

    def count(self, table):
        return self.query(f"SELECT count(*) FROM {table}")[0][0]

    def ids(self, table):
        return {row[0] for row in self.query(f"SELECT id FROM {table}")}

    def event_ids(self, event):
        """Return the data.id of every event of that type, as a Counter (to see duplicates)."""
        return Counter(data_id for kind, data_id in self.query(
            f"SELECT event, {self.EVENT_DATA_ID[self.kind]} FROM events") if kind == event)


class Gunicorn:
    """`gunicorn -w N -k CLASS 'app:create_app()'` in its own session, its output in a log
    file."""

    def __init__(self, tmp_path, url, instance, workers, name="gunicorn", settings=None,
                 worker_class="sync", threads=1, reuse_port=False):
        """url: the database's URL; settings: more VOREL_* ones; threads: per worker;
        reuse_port: a listening socket per worker (gunicorn --reuse-port)."""
        self.workers = workers
        self.worker_class = worker_class
        self.reuse_port = reuse_port
        self.port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("VOREL_")}
        env.update(VOREL_INSTANCE_PATH=str(instance), VOREL_DATABASE_URL=url,
                   VOREL_RATELIMIT_PER_KEY=UNLIMITED, VOREL_RATELIMIT_PER_TENANT=UNLIMITED,
                   PYTHONUNBUFFERED="1")
        env.update({f"VOREL_{name}": str(value) for name, value in (settings or {}).items()})
        self.log_path = tmp_path / f"{name}.log"
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class,
             "--threads", str(threads), *(["--reuse-port"] if reuse_port else []),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "60",
             # No control socket in $HOME, shared with every other gunicorn of the user.
             "--no-control-socket", "app:create_app()"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, last=60):
        """Return the last lines of the server's output, for assertion messages."""
        self.log_file.flush()
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-last:]) or "(no output)"

    def problems(self):
        """Return the log lines telling of a server-side failure."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines()
                if re.search(r"Traceback|\bERROR\b|CRITICAL|WORKER TIMEOUT|"
                             r"Worker exiting| 5\d\d [0-9.]+ms tenant=", line)]

    def connect(self):
        return connect(self.port, HTTP_TIMEOUT)

    def request(self, method, path, key, body=None, connection=None, keep_open=False):
        """Send a request (on connection, left open with keep_open); return (status, decoded
        JSON body or text)."""
        status, _, decoded = send_json(connection or self.connect(), method, path,
                                       {"Authorization": f"Bearer {key}"}, body, keep_open)
        return status, decoded

    def wait_until_serving(self, key):
        """Wait until every worker has booted and the app answers an authenticated request."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, (f"gunicorn exited ({self.process.returncode}) "
                                                 f"before serving:\n{self.log()}")
            assert time.monotonic() < deadline, (f"gunicorn did not serve within "
                                                 f"{START_TIMEOUT} s:\n{self.log()}")
            booted = self.log_path.read_text(errors="replace").count("Booting worker with pid")
            if booted >= self.workers:
                try:
                    status, body = self.request("GET", f"{CONVERSATIONS}?limit=1", key)
                except OSError:
                    status, body = None, None
                if status == 200:
                    break
                assert status is None, f"readiness probe answered {status}: {body}"
            time.sleep(0.1)
        # Warm every worker up (imports, first connection) so the tests measure steady work.
        run_clients(8, lambda index: self.request("GET", f"{CONVERSATIONS}?limit=1", key))

    def kill(self):
        """SIGKILL the whole process group (master and workers) and wait until it is gone."""
        kill_group(self.process, STOP_TIMEOUT)

    def stop(self):
        """Terminate the process group gracefully, then make sure nothing of it survives."""
        terminate_group(self.process, STOP_TIMEOUT)
        self.log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def run_clients(count, work, timeout=HTTP_TIMEOUT * 2):
    """Run work(index) in count threads; return their results, an exception where one failed."""
    results = [None] * count

    def run(index):
        try:
            results[index] = work(index)
        except BaseException as exc:  # reported by the callers' assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    hung = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not hung, f"clients {hung[:10]} did not finish within {timeout} s"
    return results


@pytest.fixture
def provisioned(tmp_path, database_url):
    return provision(tmp_path, database_url)


@pytest.fixture(params=list(WORKER_CLASSES))
def server(request, tmp_path, provisioned):
    url, instance, key = provisioned
    worker_class, threads, reuse_port = WORKER_CLASSES[request.param]
    with Gunicorn(tmp_path, url, instance, workers=4, worker_class=worker_class,
                  threads=threads, reuse_port=reuse_port) as running:
        running.wait_until_serving(key)
        yield running


def test_64_simultaneous_lead_creates_across_4_workers_make_one_lead(server, provisioned):
    url, _, key = provisioned
    status, conversation = server.request("POST", CONVERSATIONS, key, {
        "channel": "whatsapp", "customer_identifier": "+971500000001"})
    assert status == 201, (conversation, server.log())
    barrier = threading.Barrier(RACERS, timeout=HTTP_TIMEOUT)

    def create_lead(index):
        # Connect first, so that the barrier releases requests rather than TCP handshakes.
        connection = server.connect()
        barrier.wait()
        return server.request("POST", LEADS, key, {"conversation_id": conversation["id"],
                                                   "name": f"Racer {index}"}, connection)

    results = run_clients(RACERS, create_lead)

    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} clients failed, e.g. {failed[:3]!r}\n{server.log()}"
    statuses = Counter(status for status, _ in results)
    errors = [r for r in results if r[0] >= 500]
    assert not errors, f"{len(errors)} answers were 5xx, e.g. {errors[:2]!r}\n{server.log()}"
    assert statuses == {201: 1, 409: RACERS - 1}, f"{statuses}\n{results[:3]!r}"
    created = next(body for status, body in results if status == 201)
    assert created["conversation_id"] == conversation["id"]
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "conflict", body
            assert body["error"]["existing_id"] == created["id"], body

    rows = Database(url)
    assert rows.query("SELECT id, conversation_id FROM leads") == [
        (created["id"], conversation["id"])]
    assert rows.event_ids("lead.created") == {created["id"]: 1}
    assert not server.problems(), "\n".join(server.problems()[:20])


def test_2000_distinct_creates_from_32_clients_all_succeed_and_persist(server, provisioned):
    url, _, key = provisioned
    lock = threading.Lock()
    next_pair = iter(range(PAIRS))
    answers = []  # (what, index, status, body) of every request
    created = {"conversations": set(), "leads": set()}

    def client(_):
        # One connection per client, as a real client pools them: kept alive by threaded
        # workers, closed after each answer by sync ones (and then opened again).
        connection = server.connect()
        while True:
            with lock:
                index = next(next_pair, None)
            if index is None:
                connection.close()
                return
            status, conversation = server.request("POST", CONVERSATIONS, key, {
                "channel": "webform", "customer_identifier": f"load-{index:05d}@example.com"},
                connection, keep_open=True)
            answers.append(("conversation", index, status, conversation))
            if status != 201:
                continue
            created["conversations"].add(conversation["id"])
            status, lead = server.request("POST", LEADS, key, {
                "conversation_id": conversation["id"], "name": f"Lead {index}"},
                connection, keep_open=True)
            answers.append(("lead", index, status, lead))
            if status == 201:
                created["leads"].add(lead["id"])

    started = time.monotonic()
    results = run_clients(CLIENTS, client, timeout=300)
    elapsed = time.monotonic() - started

    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} clients failed, e.g. {failed[:3]!r}\n{server.log()}"
    errors = [a for a in answers if a[2] >= 500]
    assert not errors, (f"{len(errors)} answers were 5xx, e.g. {errors[:2]!r}\n"
                        f"{server.log()}")
    statuses = Counter((what, status) for what, _, status, _ in answers)
    assert statuses == {("conversation", 201): PAIRS, ("lead", 201): PAIRS}, (
        f"{statuses}\n{[a for a in answers if a[2] != 201][:3]!r}")
    assert len(created["conversations"]) == len(created["leads"]) == PAIRS

    rows = Database(url)
    assert rows.count("conversations") == PAIRS
    assert rows.count("leads") == PAIRS
    assert rows.ids("conversations") == created["conversations"]
    assert rows.ids("leads") == created["leads"]
    assert {row[0] for row in rows.query("SELECT conversation_id FROM leads")} == (
        created["conversations"])
    assert rows.event_ids("conversation.created") == Counter(created["conversations"])
    assert rows.event_ids("lead.created") == Counter(created["leads"])
    assert rows.count("events") == 2 * PAIRS
    assert not server.problems(), "\n".join(server.problems()[:20])
    print(f"{2 * PAIRS} creates in {elapsed:.1f} s ({2 * PAIRS / elapsed:.0f}/s)")


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_a_body_over_the_limit_is_refused_unread_by_gunicorn_too(server, provisioned,
                                                                 idempotency_key):
    _, _, key = provisioned
    extra = f"Idempotency-Key: {idempotency_key}\r\n".encode() if idempotency_key else b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + key.encode() + b"\r\n" + extra +
                     b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n{")
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert time.monotonic() - started < 10
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_a_connection_carries_request_after_request_under_threaded_workers(server, provisioned):
    _, _, key = provisioned
    connection = server.connect()
    # Answers that leave a body unread (a bad key, a malformed body) or refuse a duplicate
    # must not leave the next request on the same connection misread.
    steps = [("POST", CONVERSATIONS, "not-a-key", b'{"channel": "whatsapp"}', 401),
             ("POST", CONVERSATIONS, key, b'{"channel": ', 400),
             ("POST", CONVERSATIONS, key,
              b'{"channel": "whatsapp", "customer_identifier": "+971500000002"}', 201),
             ("GET", f"{CONVERSATIONS}?limit=1", key, None, 200)]
    sockets, answers = [], []
    try:
        for method, path, secret, body, expected in steps:
            connection.request(method, path, body=body, headers={
                "Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Connection"),
                            json.loads(response.read())))
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert [status for status, _, _ in answers] == [step[-1] for step in steps], answers
    assert answers[3][2]["data"][0]["id"] == answers[2][2]["id"]
    if server.worker_class == "gthread":
        assert all(header != "close" for _, header, _ in answers), answers
        assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)
    else:
        assert all(header == "close" for _, header, _ in answers), answers
        assert all(sock is None for sock in sockets)
    assert not server.problems(), "\n".join(server.problems()[:20])


def listening_sockets(port):
    """How many sockets listen on 127.0.0.1:port (from /proc/net/tcp: state 0A is LISTEN)."""
    local = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == local and line.split()[3] == "0A")


def test_the_readmes_reuse_port_gives_each_worker_its_own_listening_socket(server):
    # With one shared socket, whichever worker woke first accepted a burst of kept-alive
    # connections and kept them all: one core served while the other idled.
    assert listening_sockets(server.port) == (4 if server.reuse_port else 1)
