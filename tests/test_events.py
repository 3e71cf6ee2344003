"""Each write records exactly its events, in the same transaction; GET /api/v1/events."""
import pytest

from helpers import assert_error
from vorel_lite.models import Event


def events_of(app):
    """Return (event, data) of every recorded event, oldest first."""
    with app.app_context():
        return [(e.event, e.data) for e in Event.select().order_by(Event.created_at, Event.id)]


def test_conversation_create_emits_conversation_created(app, conversation):
    assert events_of(app) == [("conversation.created", conversation)]


def test_lead_create_emits_lead_created(app, conversation, lead):
    assert events_of(app)[1:] == [("lead.created", lead)]


def test_qualified_lead_create_also_emits_lead_qualified(app, client, auth, conversation):
    lead = client.post("/api/v1/leads", headers=auth, json={
        "conversation_id": conversation["id"], "status": "qualified"}).get_json()
    assert events_of(app)[1:] == [("lead.created", lead), ("lead.qualified", lead)]


@pytest.mark.parametrize("first,second,expected", [
    ("new", "qualified", ["lead.updated", "lead.qualified"]),
    ("qualified", "qualified", ["lead.updated"]),
    ("qualified", "booked", ["lead.updated"]),
    ("new", "lost", ["lead.updated"]),
])
def test_lead_patch_emits_updated_and_qualified_on_the_move(app, client, auth, conversation,
                                                            first, second, expected):
    lead = client.post("/api/v1/leads", headers=auth, json={
        "conversation_id": conversation["id"], "status": first}).get_json()
    count = len(events_of(app))
    updated = client.patch(f"/api/v1/leads/{lead['id']}", headers=auth,
                           json={"status": second}).get_json()
    assert events_of(app)[count:] == [(name, updated) for name in expected]


def test_conversation_patch_emits_nothing(app, client, auth, conversation):
    client.patch(f"/api/v1/conversations/{conversation['id']}", headers=auth,
                 json={"customer_name": "x"})
    assert len(events_of(app)) == 1


def test_rejected_writes_emit_nothing(app, client, auth, lead):
    count = len(events_of(app))
    client.post("/api/v1/leads", headers=auth, json={"conversation_id": lead["conversation_id"]})
    client.post("/api/v1/leads", headers=auth, json={"conversation_id": "nope"})
    client.patch(f"/api/v1/leads/{lead['id']}", headers=auth, json={"status": "won"})
    client.post("/api/v1/conversations", headers=auth, json={"channel": "voice"})
    assert len(events_of(app)) == count


def test_an_event_failure_rolls_back_the_change(app, client, auth, conversation, monkeypatch):
    from vorel_lite.api import leads

    def broken_emit(data, *names):
        raise RuntimeError("event store down")
    monkeypatch.setattr(leads, "emit_events", broken_emit)
    response = client.post("/api/v1/leads", headers=auth,
                           json={"conversation_id": conversation["id"]})
    assert_error(response, 500, "internal_error")
    assert client.get("/api/v1/leads", headers=auth).get_json()["data"] == []


def test_events_endpoint_lists_envelopes_newest_first(app, client, auth, conversation, lead):
    page = client.get("/api/v1/events", headers=auth).get_json()
    assert [e["event"] for e in page["data"]] == ["lead.created", "conversation.created"]
    envelope = page["data"][0]
    assert set(envelope) == {"id", "event", "created_at", "tenant_id", "data"}
    assert envelope["data"] == lead
    only = client.get("/api/v1/events?event=conversation.created", headers=auth).get_json()
    assert [e["data"] for e in only["data"]] == [conversation]


def test_events_endpoint_rejects_unknown_types(client, auth):
    assert_error(client.get("/api/v1/events?event=lead.deleted", headers=auth),
                 400, "bad_request", "event")
