"""kill -9 of the whole server while 16 clients write: every answered 201 survives the restart.

The app runs under gunicorn with 2 workers on one SQLite file in WAL mode, and on the
throw-away PostgreSQL database. Sixteen clients create a conversation and then its lead, over
and over; after about two seconds the process group (master and workers) gets SIGKILL, in the
middle of writes. Requests in flight at that moment may fail on the client side; a write whose
201 reached its client must be in the database after a restart on the same database, with its
event, and a SQLite file must be intact. On PostgreSQL the server survives the kill and
durability is its own; what is tested is that the app never answers 201 before COMMIT.
"""
import http.client
import threading
import time
from collections import Counter

from test_multiprocess import (CONVERSATIONS, LEADS, Database, Gunicorn, provision,
                               run_clients)

WRITERS = 16
WORKERS = 2
WRITE_SECONDS = 2.0  # of writing before the kill
MIN_ANSWERED = 50  # 201s to collect before the kill, so the check has something to check
MAX_WRITE_SECONDS = 30  # bound on waiting for MIN_ANSWERED
CLIENT_TIMEOUT = 10  # seconds the writers get to notice the server is gone and stop


def write_until_stopped(server, key, stop, answered, index):
    """Create conversations and their leads until stop; record the id of every 201."""
    number = 0
    while not stop.is_set():
        number += 1
        try:
            status, conversation = server.request("POST", CONVERSATIONS, key, {
                "channel": "whatsapp", "customer_identifier": f"+9715{index:02d}{number:06d}"})
            answered["statuses"].append(("conversation", status))
            if status != 201:
                continue
            answered["conversations"].append(conversation["id"])
            status, lead = server.request("POST", LEADS, key, {
                "conversation_id": conversation["id"], "name": f"Writer {index}"})
            answered["statuses"].append(("lead", status))
            if status == 201:
                answered["leads"].append((lead["id"], conversation["id"]))
        except (OSError, http.client.HTTPException) as exc:
            # The server died under this request: not an answered write.
            answered["failures"].append(repr(exc))
            if stop.is_set():
                return
            time.sleep(0.05)  # the kill may be a moment away from stop being set


def test_every_write_answered_201_survives_kill_9_of_the_server(tmp_path, database_url):
    url, instance, key = provision(tmp_path, database_url)
    answered = {"conversations": [], "leads": [], "statuses": [], "failures": []}
    stop = threading.Event()

    with Gunicorn(tmp_path, url, instance, workers=WORKERS, name="before-kill") as server:
        server.wait_until_serving(key)
        outcome = []
        writers = threading.Thread(target=lambda: outcome.append(run_clients(
            WRITERS, lambda i: write_until_stopped(server, key, stop, answered, i),
            MAX_WRITE_SECONDS + CLIENT_TIMEOUT * 3)), daemon=True)
        writers.start()
        try:
            started = time.monotonic()
            while (time.monotonic() - started < WRITE_SECONDS
                   or len(answered["leads"]) < MIN_ANSWERED):
                assert time.monotonic() - started < MAX_WRITE_SECONDS, (
                    f"only {len(answered['leads'])} leads answered 201 in {MAX_WRITE_SECONDS} "
                    f"s: {Counter(answered['statuses'])}\n{server.log()}")
                assert server.process.poll() is None, f"gunicorn died by itself:\n{server.log()}"
                time.sleep(0.05)
            # Mid-write: the writers are still sending when the whole group is killed.
            server.kill()
        finally:
            stop.set()
            writers.join(CLIENT_TIMEOUT * 4)
        assert not writers.is_alive(), "the writers did not stop after the kill"
        assert outcome == [[None] * WRITERS], f"writers failed: {outcome!r}"
        assert answered["failures"], "no request was in flight at the kill"
        before_log = server.log(200)

    statuses = Counter(answered["statuses"])
    errors = {k: n for k, n in statuses.items() if k[1] >= 500}
    assert not errors, f"5xx before the kill: {errors}\n{before_log}"
    assert set(statuses) <= {("conversation", 201), ("lead", 201)}, statuses
    conversations = answered["conversations"]
    leads = answered["leads"]
    assert len(set(conversations)) == len(conversations)
    assert len({lead_id for lead_id, _ in leads}) == len(leads)

    with Gunicorn(tmp_path, url, instance, workers=WORKERS, name="after-kill") as server:
        server.wait_until_serving(key)
        rows = Database(url)
        # PostgreSQL checks foreign keys at every commit and recovers its own pages.
        if rows.kind == "sqlite":
            assert rows.query("PRAGMA integrity_check") == [("ok",)]
            assert rows.query("PRAGMA foreign_key_check") == []

        missing = set(conversations) - rows.ids("conversations")
        assert not missing, (f"{len(missing)} of {len(conversations)} conversations answered "
                             f"201 are gone, e.g. {sorted(missing)[:3]}")
        stored_leads = dict(rows.query("SELECT id, conversation_id FROM leads"))
        lost = [lead for lead in leads if stored_leads.get(lead[0]) != lead[1]]
        assert not lost, (f"{len(lost)} of {len(leads)} leads answered 201 are gone or moved, "
                          f"e.g. {lost[:3]}")

        conversation_events = rows.event_ids("conversation.created")
        lead_events = rows.event_ids("lead.created")
        assert all(conversation_events[c] == 1 for c in conversations), (
            [c for c in conversations if conversation_events[c] != 1][:3])
        assert all(lead_events[lead_id] == 1 for lead_id, _ in leads), (
            [lead for lead in leads if lead_events[lead[0]] != 1][:3])
        # Nothing is half there: every row has its event and every event its row.
        assert set(conversation_events) == rows.ids("conversations")
        assert set(lead_events) == rows.ids("leads")

        # The answered writes are served again, and the restarted server takes new writes.
        for conversation_id in conversations[:50]:
            status, body = server.request("GET", f"{CONVERSATIONS}/{conversation_id}", key)
            assert (status, body["id"]) == (200, conversation_id), body
        for lead_id, conversation_id in leads[:50]:
            status, body = server.request("GET", f"{LEADS}/{lead_id}", key)
            assert (status, body["conversation_id"]) == (200, conversation_id), body
        status, conversation = server.request("POST", CONVERSATIONS, key, {
            "channel": "voice", "customer_identifier": "+971599999999"})
        assert status == 201, (conversation, server.log())
        status, lead = server.request("POST", LEADS, key,
                                      {"conversation_id": conversation["id"]})
        assert status == 201, (lead, server.log())
        assert not server.problems(), "\n".join(server.problems()[:20])

    if rows.kind == "sqlite":
        assert rows.query("PRAGMA integrity_check") == [("ok",)]
    print(f"killed after {len(conversations)} conversations and {len(leads)} leads answered "
          f"201; {len(answered['failures'])} requests failed at the kill")
