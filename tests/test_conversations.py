"""POST/GET/PATCH /api/v1/conversations."""
import pytest

from helpers import assert_error

CONVERSATIONS = "/api/v1/conversations"


def test_create_then_read(client, auth):
    body = {"channel": "webform", "customer_identifier": "layla@example.com",
            "customer_name": "Layla", "customer_language": "ar-AE"}
    response = client.post(CONVERSATIONS, headers=auth, json=body)
    assert response.status_code == 201
    conversation = response.get_json()
    assert {k: conversation[k] for k in body} == body
    assert conversation["status"] == "active"
    assert conversation["first_message_at"] is None and conversation["last_message_at"] is None
    assert client.get(f"{CONVERSATIONS}/{conversation['id']}",
                      headers=auth).get_json() == conversation


def test_same_channel_and_identifier_is_409_with_existing_id(client, auth, conversation,
                                                             table_counts):
    before = table_counts()
    response = client.post(CONVERSATIONS, headers=auth, json={
        "channel": conversation["channel"],
        "customer_identifier": conversation["customer_identifier"]})
    assert assert_error(response, 409, "conflict")["existing_id"] == conversation["id"]
    assert table_counts() == before


def test_identifier_is_unique_per_channel_and_tenant(client, auth, other_auth, conversation):
    identifier = conversation["customer_identifier"]
    assert client.post(CONVERSATIONS, headers=auth, json={
        "channel": "voice", "customer_identifier": identifier}).status_code == 201
    assert client.post(CONVERSATIONS, headers=other_auth, json={
        "channel": conversation["channel"], "customer_identifier": identifier}).status_code == 201


BAD_CREATE = [
    ({"customer_identifier": "+1"}, "channel"),
    ({"channel": "sms", "customer_identifier": "+1"}, "channel"),
    ({"channel": None, "customer_identifier": "+1"}, "channel"),
    ({"channel": 1, "customer_identifier": "+1"}, "channel"),
    ({"channel": "voice"}, "customer_identifier"),
    ({"channel": "voice", "customer_identifier": ""}, "customer_identifier"),
    ({"channel": "voice", "customer_identifier": "x" * 256}, "customer_identifier"),
    ({"channel": "voice", "customer_identifier": None}, "customer_identifier"),
    ({"channel": "voice", "customer_identifier": 971500000001}, "customer_identifier"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_name": "x" * 201},
     "customer_name"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_name": 7}, "customer_name"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_language": "english"},
     "customer_language"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_language": "EN"},
     "customer_language"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_language": "en\n"},
     "customer_language"),
    ({"channel": "voice", "customer_identifier": "+1", "customer_language": "en-us"},
     "customer_language"),
    ({"channel": "voice", "customer_identifier": "+1", "status": "closed"}, "status"),
    ({"channel": "voice", "customer_identifier": "+1", "id": "x"}, "id"),
    ({"channel": "voice", "customer_identifier": "+1", "extra": True}, "extra"),
]


@pytest.mark.parametrize("body,field", BAD_CREATE)
def test_bad_create_bodies_are_400_naming_the_field(client, auth, table_counts, body, field):
    assert_error(client.post(CONVERSATIONS, headers=auth, json=body), 400, "bad_request", field)
    assert table_counts() == {"Conversation": 0, "Lead": 0, "Event": 0}


@pytest.mark.parametrize("field,value", [
    ("customer_identifier", "x"), ("customer_identifier", "x" * 255),
    ("customer_name", "n" * 200), ("customer_name", None), ("customer_language", "en"),
    ("customer_language", None),
])
def test_values_at_the_bounds_are_accepted(client, auth, field, value):
    body = {"channel": "instagram", "customer_identifier": "@layla", field: value}
    response = client.post(CONVERSATIONS, headers=auth, json=body)
    assert response.status_code == 201
    assert response.get_json()[field] == value


def test_patch_changes_name_and_language_and_emits_nothing(client, auth, conversation,
                                                           table_counts):
    before = table_counts()
    response = client.patch(f"{CONVERSATIONS}/{conversation['id']}", headers=auth,
                            json={"customer_name": "Layla", "customer_language": "en"})
    assert response.status_code == 200
    assert response.get_json() == {**conversation, "customer_name": "Layla",
                                   "customer_language": "en"}
    response = client.patch(f"{CONVERSATIONS}/{conversation['id']}", headers=auth,
                            json={"customer_name": None})
    assert response.get_json()["customer_name"] is None
    assert response.get_json()["customer_language"] == "en"
    assert table_counts() == before


@pytest.mark.parametrize("body,field", [
    ({}, "_schema"), ({"channel": "voice"}, "channel"),
    ({"customer_identifier": "+2"}, "customer_identifier"), ({"status": "closed"}, "status"),
    ({"id": "x"}, "id"), ({"created_at": "x"}, "created_at"),
    ({"last_message_at": None}, "last_message_at"), ({"customer_language": "xx-yy"},
                                                     "customer_language"),
    ({"customer_name": "x" * 201}, "customer_name"), ({"nope": 1}, "nope"),
])
def test_bad_patch_bodies_are_400_and_change_nothing(client, auth, conversation, body, field):
    response = client.patch(f"{CONVERSATIONS}/{conversation['id']}", headers=auth, json=body)
    assert field in assert_error(response, 400, "bad_request")["fields"]
    assert client.get(f"{CONVERSATIONS}/{conversation['id']}",
                      headers=auth).get_json() == conversation


def test_unknown_conversation_is_404(client, auth):
    missing = "00000000-0000-4000-8000-000000000000"
    assert_error(client.get(f"{CONVERSATIONS}/{missing}", headers=auth), 404, "not_found")
    assert_error(client.patch(f"{CONVERSATIONS}/{missing}", headers=auth,
                              json={"customer_name": "x"}), 404, "not_found")


def test_list_is_newest_first(client, auth):
    made = [client.post(CONVERSATIONS, headers=auth, json={
        "channel": "email", "customer_identifier": f"c{i}@example.com"}).get_json()["id"]
        for i in range(3)]
    page = client.get(CONVERSATIONS, headers=auth).get_json()
    assert [c["id"] for c in page["data"]] == made[::-1]
    assert page["has_more"] is False and page["next_cursor"] is None


# --- `flask conversations close`: the operator's action -----------------------------------------

def close(runner, conversation_id):
    return runner.invoke(args=["conversations", "close", conversation_id])


def test_close_sets_closed_and_emits_conversation_closed_once(client, auth, runner,
                                                              conversation):
    runner.invoke(args=["webhooks", "add", "--tenant", "acme", "https://hooks.example/h",
                        "--event", "conversation.closed"])
    result = close(runner, conversation["id"])
    assert result.exit_code == 0 and f"Closed {conversation['id']}" in result.output
    closed = client.get(f"{CONVERSATIONS}/{conversation['id']}", headers=auth).get_json()
    assert closed == {**conversation, "status": "closed"}
    events = client.get("/api/v1/events?event=conversation.closed",
                        headers=auth).get_json()["data"]
    assert [e["data"] for e in events] == [closed]
    # Closing again changes nothing and emits nothing.
    again = close(runner, conversation["id"].upper())
    assert again.exit_code == 0 and "already closed" in again.output
    assert len(client.get("/api/v1/events?event=conversation.closed",
                          headers=auth).get_json()["data"]) == 1
    listed = runner.invoke(args=["webhooks", "list", "--tenant", "acme"]).output
    assert "pending=1" in listed


@pytest.mark.parametrize("conversation_id", ["3f2b8c1e-9d4a-4c6b-8e2f-1a5b7c9d0e3f",
                                             "not-a-uuid", ""])
def test_close_of_an_unknown_conversation_fails_clearly(runner, conversation_id, auth):
    result = close(runner, conversation_id)
    assert result.exit_code != 0 and "no conversation" in result.output


def test_a_closed_conversation_is_documented_and_listed(client, auth, runner, conversation):
    close(runner, conversation["id"])
    listed = client.get(CONVERSATIONS, headers=auth).get_json()["data"]
    assert [c["status"] for c in listed] == ["closed"]
    document = client.get("/api/v1/openapi.json").get_json()
    assert "closed" in document["components"]["schemas"]["Conversation"]["properties"][
        "status"]["enum"]
