"""POST /api/v1/conversations/{id}/send: the next sequence number, timestamps, no event."""
import re
import uuid
from collections import Counter

import pytest

import test_concurrency
from helpers import assert_error
from vorel_lite.models import Conversation, Event, Message

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
SENDERS = 20

# The real threaded server of test_concurrency, as fixtures of this module too.
server = test_concurrency.server
server_log = test_concurrency.server_log


def send_url(conversation):
    return f"/api/v1/conversations/{conversation['id']}/send"


@pytest.fixture
def state(app):
    """Return a function giving what a send writes: messages, events, conversations."""
    def snapshot():
        with app.app_context():
            return {"messages": Message.select().count(), "events": Event.select().count(),
                    "conversations": [c.__data__ for c in Conversation.select()
                                      .order_by(Conversation.id)]}
    return snapshot


def test_a_send_returns_202_and_stores_an_outbound_message(app, client, auth, conversation):
    response = client.post(send_url(conversation), headers=auth,
                           json={"text": "مرحبا, see you at 5", "language": "mixed"})
    assert response.status_code == 202, response.get_json()
    result = response.get_json()
    assert set(result) == {"message_id", "sequence_number", "sent_at", "mocked"}
    assert uuid.UUID(result["message_id"]).version == 4
    assert result["sequence_number"] == 1
    assert TIMESTAMP.fullmatch(result["sent_at"])
    assert result["mocked"] is True
    with app.app_context():
        message = Message.get_by_id(result["message_id"])
        tenant_id = Conversation.get_by_id(conversation["id"]).tenant_id
    assert (message.tenant_id, message.conversation_id, message.sequence_number,
            message.direction, message.text, message.language, message.sent_at) == (
        tenant_id, conversation["id"], 1, "outbound", "مرحبا, see you at 5", "mixed",
        result["sent_at"])


def test_sequence_numbers_count_per_conversation(client, auth, conversation):
    other = client.post("/api/v1/conversations", headers=auth, json={
        "channel": "voice", "customer_identifier": "+15550000002"}).get_json()
    numbers = [client.post(send_url(target), headers=auth, json={"text": "hi"}
                           ).get_json()["sequence_number"]
               for target in (conversation, conversation, other, conversation, other)]
    assert numbers == [1, 2, 1, 3, 2]


def test_a_send_moves_the_conversations_message_timestamps(client, auth, conversation):
    conversation_url = f"/api/v1/conversations/{conversation['id']}"
    assert conversation["first_message_at"] is None and conversation["last_message_at"] is None
    first = client.post(send_url(conversation), headers=auth, json={"text": "one"}).get_json()
    after_first = client.get(conversation_url, headers=auth).get_json()
    assert after_first == {**conversation, "first_message_at": first["sent_at"],
                           "last_message_at": first["sent_at"]}
    second = client.post(send_url(conversation), headers=auth, json={"text": "two"}).get_json()
    assert second["sent_at"] > first["sent_at"]
    after_second = client.get(conversation_url, headers=auth).get_json()
    assert after_second == {**after_first, "last_message_at": second["sent_at"]}


def test_a_send_emits_no_event(client, auth, conversation, state):
    before = state()
    assert client.post(send_url(conversation), headers=auth,
                       json={"text": "hi"}).status_code == 202
    assert state()["events"] == before["events"]


@pytest.mark.parametrize("body", [
    {"text": "x"}, {"text": "x" * 4096}, {"text": "ل" * 4096}, {"text": " "},
    {"text": "hi", "language": "ar"}, {"text": "hi", "language": "en"},
    {"text": "hi", "language": "mixed"}, {"text": "hi", "language": None},
])
def test_values_at_the_bounds_are_accepted(app, client, auth, conversation, body):
    response = client.post(send_url(conversation), headers=auth, json=body)
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        message = Message.get_by_id(response.get_json()["message_id"])
    assert (message.text, message.language) == (body["text"], body.get("language"))


BAD_BODIES = [
    ({}, "text"),
    ({"language": "en"}, "text"),
    ({"text": None}, "text"),
    ({"text": ""}, "text"),
    ({"text": "x" * 4097}, "text"),
    ({"text": "ل" * 4097}, "text"),
    ({"text": 5}, "text"),
    ({"text": True}, "text"),
    ({"text": ["hi"]}, "text"),
    ({"text": {"body": "hi"}}, "text"),
    ({"text": "hi", "language": "fr"}, "language"),
    ({"text": "hi", "language": "EN"}, "language"),
    ({"text": "hi", "language": "en "}, "language"),
    ({"text": "hi", "language": ""}, "language"),
    ({"text": "hi", "language": 1}, "language"),
    ({"text": "hi", "language": ["en"]}, "language"),
    ({"text": "hi", "unknown_field": 1}, "unknown_field"),
    ({"text": "hi", "direction": "inbound"}, "direction"),
    ({"text": "hi", "sequence_number": 7}, "sequence_number"),
    ({"text": "hi", "message_id": str(uuid.uuid4())}, "message_id"),
    ({"text": "hi", "mocked": False}, "mocked"),
]


@pytest.mark.parametrize("body,field", BAD_BODIES)
def test_bad_bodies_are_400_naming_the_field_and_write_nothing(client, auth, conversation,
                                                               state, body, field):
    before = state()
    response = client.post(send_url(conversation), headers=auth, json=body)
    assert_error(response, 400, "bad_request", field)
    assert state() == before


@pytest.mark.parametrize("raw,content_type,status", [
    ("[]", "application/json", 400), ("null", "application/json", 400),
    ('"hi"', "application/json", 400), ("5", "application/json", 400),
    ('[{"text": "hi"}]', "application/json", 400), ("", "application/json", 400),
    ("", None, 415), ('{"text": "hi"}', "text/plain", 415), ('{"text": "hi"}', None, 415),
])
def test_a_body_must_be_a_json_object(client, auth, conversation, state, raw, content_type,
                                      status):
    before = state()
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = client.post(send_url(conversation), headers=headers, data=raw)
    assert_error(response, status, "bad_request")
    assert state() == before


def test_another_tenants_conversation_is_404_like_an_unknown_one(client, other_auth,
                                                                 conversation, state):
    before = state()
    foreign = client.post(send_url(conversation), headers=other_auth, json={"text": "hi"})
    error = assert_error(foreign, 404, "not_found")
    missing_id = str(uuid.uuid4())
    unknown = client.post(send_url({"id": missing_id}), headers=other_auth, json={"text": "hi"})
    assert assert_error(unknown, 404, "not_found")["message"] == \
        error["message"].replace(conversation["id"], missing_id)
    assert state() == before


@pytest.mark.parametrize("conversation_id", [str(uuid.uuid4()), "not-a-uuid", "x" * 300])
def test_unknown_conversation_ids_are_404(client, auth, state, conversation_id):
    before = state()
    response = client.post(send_url({"id": conversation_id}), headers=auth, json={"text": "hi"})
    assert_error(response, 404, "not_found")
    assert state() == before


def test_simultaneous_sends_get_sequence_numbers_1_to_n(app, server, auth, server_log):
    status, _, conversation = server.post("/api/v1/conversations", auth, {
        "channel": "whatsapp", "customer_identifier": "+971500000077"})
    assert status == 201, conversation
    bodies = [{"text": f"message {i}"} for i in range(SENDERS)]
    results = test_concurrency.race(server, send_url(conversation), auth, bodies)

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {202: SENDERS}, f"{statuses}\n{results[:3]!r}\nserver log:\n{server_log()}"
    numbers = sorted(body["sequence_number"] for _, _, body in results)
    assert numbers == list(range(1, SENDERS + 1))
    with app.app_context():
        stored = {m.text: (m.sequence_number, m.sent_at) for m in Message.select()}
        stored_conversation = Conversation.get_by_id(conversation["id"])
    assert len(stored) == SENDERS
    assert {text: number for text, (number, _) in stored.items()} == {
        body["text"]: result["sequence_number"]
        for body, (_, _, result) in zip(bodies, results)}
    # Numbered in the order the lock was taken: a later number never has an earlier time.
    by_number = [sent_at for _, sent_at in sorted(stored.values())]
    assert by_number == sorted(by_number)
    assert stored_conversation.first_message_at == by_number[0]
    assert stored_conversation.last_message_at == by_number[-1]
