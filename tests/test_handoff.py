"""POST /api/v1/leads/{id}/handoff: an optional body, a new handoff every call, one event each."""
import re
import uuid

import pytest

from helpers import assert_error
from vorel_lite import create_app
from vorel_lite.models import Conversation, Event, Handoff

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def handoff_url(lead):
    return f"/api/v1/leads/{lead['id']}/handoff"


@pytest.fixture
def state(app):
    """Return a function giving what a handoff writes: its rows, events, conversation statuses."""
    def snapshot():
        with app.app_context():
            return {"handoffs": Handoff.select().count(),
                    "events": [(e.event, e.data) for e in
                               Event.select().order_by(Event.created_at, Event.id)],
                    "statuses": {c.id: c.status for c in Conversation.select()}}
    return snapshot


def test_a_handoff_without_a_body_returns_the_handoff(app, client, auth, lead):
    response = client.post(handoff_url(lead), headers=auth)
    assert response.status_code == 201, response.get_json()
    handoff = response.get_json()
    assert set(handoff) == {"handoff_id", "lead_id", "conversation_id", "conversation_status",
                            "notified_channel", "reason", "summary", "created_at"}
    assert uuid.UUID(handoff["handoff_id"]).version == 4
    assert handoff["lead_id"] == lead["id"]
    assert handoff["conversation_id"] == lead["conversation_id"]
    assert handoff["conversation_status"] == "awaiting_human"
    assert handoff["notified_channel"] == "email"
    assert handoff["reason"] is None and handoff["summary"] is None
    assert TIMESTAMP.fullmatch(handoff["created_at"])
    with app.app_context():
        row = Handoff.get_by_id(handoff["handoff_id"])
        tenant_id = Conversation.get_by_id(lead["conversation_id"]).tenant_id
    assert (row.tenant_id, row.lead_id, row.conversation_id, row.notified_channel,
            row.created_at) == (tenant_id, lead["id"], lead["conversation_id"], "email",
                                handoff["created_at"])


@pytest.mark.parametrize("body", [{}, {"reason": "wants a viewing"},
                                  {"reason": None, "summary": None},
                                  {"reason": "r" * 200, "summary": "s" * 1000},
                                  {"reason": "ل" * 200, "summary": "ل" * 1000},
                                  {"reason": "", "summary": ""}])
def test_reason_and_summary_are_kept(client, auth, lead, body):
    response = client.post(handoff_url(lead), headers=auth, json=body)
    assert response.status_code == 201, response.get_json()
    handoff = response.get_json()
    assert handoff["reason"] == body.get("reason")
    assert handoff["summary"] == body.get("summary")


def test_a_handoff_sets_the_conversation_awaiting_human(client, auth, lead):
    conversation_url = f"/api/v1/conversations/{lead['conversation_id']}"
    before = client.get(conversation_url, headers=auth).get_json()
    assert before["status"] == "active"
    client.post(handoff_url(lead), headers=auth)
    after = client.get(conversation_url, headers=auth).get_json()
    assert after == {**before, "status": "awaiting_human"}


def test_every_call_records_a_new_handoff_and_one_event(client, auth, lead, state):
    before = state()
    made = [client.post(handoff_url(lead), headers=auth, json={"reason": f"call {i}"})
            for i in range(3)]
    assert [response.status_code for response in made] == [201, 201, 201]
    bodies = [response.get_json() for response in made]
    assert len({body["handoff_id"] for body in bodies}) == 3
    after = state()
    assert after["handoffs"] == before["handoffs"] + 3
    assert after["events"][len(before["events"]):] == [
        ("conversation.handoff_requested", body) for body in bodies]


def test_the_event_is_the_response_body(client, auth, lead):
    handoff = client.post(handoff_url(lead), headers=auth, json={"summary": "s"}).get_json()
    page = client.get("/api/v1/events?event=conversation.handoff_requested",
                      headers=auth).get_json()
    assert [event["data"] for event in page["data"]] == [handoff]


BAD_BODIES = [
    ({"reason": "r" * 201}, "reason"),
    ({"reason": "ل" * 201}, "reason"),
    ({"summary": "s" * 1001}, "summary"),
    ({"reason": 5}, "reason"),
    ({"reason": True}, "reason"),
    ({"reason": ["r"]}, "reason"),
    ({"reason": {"text": "r"}}, "reason"),
    ({"summary": 1.5}, "summary"),
    ({"summary": ["s"]}, "summary"),
    ({"unknown_field": 1}, "unknown_field"),
    ({"handoff_id": str(uuid.uuid4())}, "handoff_id"),
    ({"lead_id": str(uuid.uuid4())}, "lead_id"),
    ({"conversation_status": "active"}, "conversation_status"),
    ({"notified_channel": "slack"}, "notified_channel"),
    ({"reason": "fine", "extra": None}, "extra"),
]


@pytest.mark.parametrize("body,field", BAD_BODIES)
def test_bad_bodies_are_400_naming_the_field_and_write_nothing(client, auth, lead, state,
                                                               body, field):
    before = state()
    response = client.post(handoff_url(lead), headers=auth, json=body)
    assert_error(response, 400, "bad_request", field)
    assert state() == before


@pytest.mark.parametrize("raw,content_type,status", [
    ("[]", "application/json", 400), ("null", "application/json", 400),
    ('"reason"', "application/json", 400), ("5", "application/json", 400),
    ("true", "application/json", 400), ('[{"reason": "r"}]', "application/json", 400),
    ("{", "application/json", 400),
    ('{"reason": "r"}', "text/plain", 415), ('{"reason": "r"}', None, 415),
    ("x" * (1024 * 1024 + 1), None, 413),
])
def test_a_body_that_is_there_must_be_a_json_object(client, auth, lead, state, raw,
                                                    content_type, status):
    before = state()
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = client.post(handoff_url(lead), headers=headers, data=raw)
    assert_error(response, status, "bad_request")
    assert state() == before


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_an_empty_body_is_no_body_whatever_its_content_type(client, auth, lead, content_type):
    # openapi-python-client sends Content-Type: application/json with an empty body.
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = client.post(handoff_url(lead), headers=headers, data="")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reason"] is None


def test_another_tenants_lead_is_404_like_an_unknown_one(client, auth, other_auth, lead, state):
    before = state()
    foreign = client.post(handoff_url(lead), headers=other_auth, json={"reason": "r"})
    error = assert_error(foreign, 404, "not_found")
    missing_id = str(uuid.uuid4())
    unknown = client.post(handoff_url({"id": missing_id}), headers=other_auth)
    assert assert_error(unknown, 404, "not_found")["message"] == \
        error["message"].replace(lead["id"], missing_id)
    assert state() == before


@pytest.mark.parametrize("lead_id", [str(uuid.uuid4()), "not-a-uuid", "1", "x" * 300])
def test_unknown_lead_ids_are_404(client, auth, lead, state, lead_id):
    before = state()
    assert_error(client.post(handoff_url({"id": lead_id}), headers=auth), 404, "not_found")
    assert state() == before


def test_an_event_failure_rolls_back_the_handoff(client, auth, lead, state, monkeypatch):
    from vorel_lite.api import leads

    def broken_emit(data, *names):
        raise RuntimeError("event store down")
    before = state()
    monkeypatch.setattr(leads, "emit_events", broken_emit)
    assert_error(client.post(handoff_url(lead), headers=auth), 500, "internal_error")
    assert state() == before


class TestSlackChannel:
    @pytest.fixture
    def config(self, config):
        return {**config, "HANDOFF_CHANNEL": "slack"}

    def test_the_configured_channel_is_recorded(self, app, client, auth, lead):
        handoff = client.post(handoff_url(lead), headers=auth).get_json()
        assert handoff["notified_channel"] == "slack"
        with app.app_context():
            assert Handoff.get_by_id(handoff["handoff_id"]).notified_channel == "slack"


@pytest.mark.parametrize("channel", ["sms", "Slack", "", None, "email "])
def test_an_unknown_handoff_channel_stops_app_creation(config, channel):
    with pytest.raises(ValueError, match="HANDOFF_CHANNEL must be one of email, slack"):
        create_app({**config, "HANDOFF_CHANNEL": channel})


def test_the_handoff_channel_can_come_from_the_environment(config, monkeypatch):
    monkeypatch.setenv("VOREL_HANDOFF_CHANNEL", "slack")
    assert create_app(config).config["HANDOFF_CHANNEL"] == "slack"
    monkeypatch.setenv("VOREL_HANDOFF_CHANNEL", "pager")
    with pytest.raises(ValueError, match="not 'pager'"):
        create_app(config)
