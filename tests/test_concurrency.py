"""Simultaneous strict creates through a real threaded HTTP server on loopback.

The test client runs requests one at a time in the test's thread; only a real server with a
thread per connection shows whether the UNIQUE constraints, the transactions and SQLite's
write lock hold up when 32 requests arrive together.
"""
import logging
import threading
from collections import Counter

import pytest
from werkzeug.serving import make_server

from processes import connect, send_json
from vorel_lite.models import Conversation, Event, Lead

CONVERSATIONS = "/api/v1/conversations"
LEADS = "/api/v1/leads"
CLIENTS = 32
TIMEOUT = 30  # seconds, for every HTTP call, barrier wait and join


class Server:
    """A threaded werkzeug server running app on a free loopback port."""

    def __init__(self, app):
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       name="vorel-test-server", daemon=True)

    def connect(self):
        """Return an open connection to the server."""
        return connect(self.port, TIMEOUT)

    def post(self, path, headers, body, connection=None):
        """POST body as JSON; return (status, content type, decoded JSON body)."""
        status, response_headers, decoded = send_json(connection or self.connect(), "POST",
                                                      path, headers, body)
        return status, response_headers.get("Content-Type"), decoded


@pytest.fixture
def server(app):
    """The app served by a real threaded HTTP server, stopped after the test."""
    running = Server(app)
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()
    running.thread.join(TIMEOUT)
    assert not running.thread.is_alive(), "the test server did not stop"


@pytest.fixture
def server_log(caplog):
    """Return the server's error log (tracebacks of 500s), for assertion messages."""
    caplog.set_level(logging.ERROR)

    def text(first=3):
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        shown = "\n".join(f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}"
                          for r in errors[:first])
        return f"{len(errors)} error records; the first {first}:\n{shown}" if errors else "(empty)"
    return text


def race(server, path, headers, bodies):
    """Send one POST per body, all released together; return [(status, type, body)]."""
    count = len(bodies)
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    results = [None] * count

    def send(index):
        try:
            # Connect first so that the barrier releases requests, not TCP handshakes.
            connection = server.connect()
            barrier.wait()
            results[index] = server.post(path, headers, bodies[index], connection)
        except BaseException as exc:  # reported by the assertions below
            results[index] = exc

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    hung = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not hung, f"clients {hung} got no answer in time"
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} clients failed: {failed[:3]!r}"
    return results


def assert_one_created(results, server_log):
    """Assert one 201 and, for the rest, 409 conflicts naming its id; return the 201's body."""
    statuses = Counter(status for status, _, _ in results)
    server_errors = [r for r in results if r[0] >= 500]
    assert not server_errors, (f"{len(server_errors)} answers were 5xx, e.g. {server_errors[0]!r}"
                               f"\nserver log:\n{server_log()}")
    assert statuses == {201: 1, 409: len(results) - 1}, f"{statuses}\n{results[:3]!r}"
    created = next(body for status, _, body in results if status == 201)
    for status, content_type, body in results:
        assert content_type == "application/json"
        if status == 409:
            error = body["error"]
            assert error["code"] == "conflict", body
            assert isinstance(error["message"], str) and error["message"]
            assert error["existing_id"] == created["id"], body
    return created


def count_rows(app, model, *conditions):
    with app.app_context():
        query = model.select()
        return (query.where(*conditions) if conditions else query).count()


def lead_race(app, server, auth, server_log):
    """Create a conversation over HTTP, then race CLIENTS lead creates on it."""
    status, _, conversation = server.post(
        CONVERSATIONS, auth, {"channel": "whatsapp", "customer_identifier": "+971500000001"})
    assert status == 201, conversation
    bodies = [{"conversation_id": conversation["id"], "name": f"Client {i}"}
              for i in range(CLIENTS)]
    created = assert_one_created(race(server, LEADS, auth, bodies), server_log)
    assert created["conversation_id"] == conversation["id"]

    assert count_rows(app, Lead) == 1
    assert count_rows(app, Lead, Lead.id == created["id"],
                      Lead.conversation == conversation["id"]) == 1
    assert count_rows(app, Event, Event.event == "lead.created") == 1
    with app.app_context():
        event = Event.get(Event.event == "lead.created")
    assert event.data["id"] == created["id"]
    assert count_rows(app, Event, Event.event.startswith("lead.")) == 1


def test_simultaneous_lead_creates_on_one_conversation_make_one_lead(app, server, auth,
                                                                     server_log):
    lead_race(app, server, auth, server_log)


def test_simultaneous_creates_of_one_conversation_make_one_conversation(app, server, auth,
                                                                        server_log):
    body = {"channel": "whatsapp", "customer_identifier": "+971500000042"}
    created = assert_one_created(race(server, CONVERSATIONS, auth, [body] * CLIENTS),
                                 server_log)
    assert (created["channel"], created["customer_identifier"]) == ("whatsapp", "+971500000042")

    assert count_rows(app, Conversation) == 1
    assert count_rows(app, Conversation, Conversation.id == created["id"]) == 1
    assert count_rows(app, Event, Event.event == "conversation.created") == 1
    assert count_rows(app, Event) == 1


def test_simultaneous_creates_of_distinct_conversations_all_succeed(app, server, auth,
                                                                    server_log):
    bodies = [{"channel": "whatsapp", "customer_identifier": f"+9715000001{i:02d}"}
              for i in range(CLIENTS)]
    results = race(server, CONVERSATIONS, auth, bodies)

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: CLIENTS}, f"{statuses}\n{results[:3]!r}\nserver log:\n{server_log()}"
    ids = {body["id"] for _, _, body in results}
    assert len(ids) == CLIENTS
    assert ({body["customer_identifier"] for _, _, body in results}
            == {b["customer_identifier"] for b in bodies})

    assert count_rows(app, Conversation) == CLIENTS
    assert count_rows(app, Event, Event.event == "conversation.created") == CLIENTS
    with app.app_context():
        assert {e.data["id"] for e in Event.select()} == ids


class TestInMemoryDatabase:
    """The same race with DATABASE_URL sqlite:///:memory:, one database for every thread."""

    @pytest.fixture
    def config(self, config):
        return {**config, "DATABASE_URL": "sqlite:///:memory:"}

    def test_simultaneous_lead_creates_on_one_conversation_make_one_lead(
            self, app, server, auth, server_log, tmp_path):
        # The key was issued in this thread, the conversation and the leads are created by
        # the server's threads, and the rows are counted here again: one shared database.
        lead_race(app, server, auth, server_log)
        assert not (tmp_path / "test.db").exists()
        assert not (tmp_path / "instance" / "vorel.db").exists()
