"""POST/GET/PATCH /api/v1/leads: the seed's contract and the strict-partial update."""
import uuid

import pytest

from helpers import assert_error

LEADS = "/api/v1/leads"


def test_create_lead_returns_the_lead_with_defaults(client, auth, conversation):
    response = client.post(LEADS, headers=auth, json={"conversation_id": conversation["id"]})
    assert response.status_code == 201
    lead = response.get_json()
    assert uuid.UUID(lead["id"]).version == 4
    assert lead["conversation_id"] == conversation["id"]
    assert lead["status"] == "new"
    assert lead["attributes"] == {}
    for name in ("name", "email", "phone", "intent", "timeline", "qualification_score", "source"):
        assert lead[name] is None
    assert lead["created_at"].endswith("Z") and len(lead["created_at"]) == 27
    assert client.get(f"{LEADS}/{lead['id']}", headers=auth).get_json() == lead


def test_create_lead_keeps_every_field(client, auth, conversation):
    body = {"conversation_id": conversation["id"], "name": "Layla Haddad",
            "email": "layla@example.com", "phone": "+971500000001", "intent": "buy",
            "timeline": "3 months", "qualification_score": 87, "status": "qualified",
            "source": "instagram-ad", "attributes": {"bedrooms": 3, "area": "Marina"}}
    lead = client.post(LEADS, headers=auth, json=body).get_json()
    assert {k: lead[k] for k in body} == body


def test_second_lead_for_a_conversation_is_409_with_existing_id(client, auth, lead, table_counts):
    before = table_counts()
    response = client.post(LEADS, headers=auth, json={"conversation_id": lead["conversation_id"]})
    error = assert_error(response, 409, "conflict")
    assert error["existing_id"] == lead["id"]
    assert table_counts() == before


def test_lead_for_unknown_conversation_is_404_naming_the_field(client, auth, table_counts):
    response = client.post(LEADS, headers=auth, json={"conversation_id": str(uuid.uuid4())})
    error = assert_error(response, 404, "not_found")
    assert "conversation_id" in error["message"]
    assert table_counts()["Lead"] == 0


def test_uppercase_conversation_id_finds_the_conversation(client, auth, conversation):
    response = client.post(LEADS, headers=auth,
                           json={"conversation_id": conversation["id"].upper()})
    assert response.status_code == 201
    assert response.get_json()["conversation_id"] == conversation["id"]


def test_max_lengths_count_characters_not_bytes(client, auth, conversation):
    response = client.post(LEADS, headers=auth,
                           json={"conversation_id": conversation["id"], "name": "ل" * 200})
    assert response.status_code == 201
    assert response.get_json()["name"] == "ل" * 200


VALID_BOUNDS = [
    ("name", "x" * 200), ("phone", "1" * 32), ("intent", "i" * 40), ("timeline", "t" * 40),
    ("source", "s" * 40), ("qualification_score", 0), ("qualification_score", 100),
    ("qualification_score", 59.0), ("email", "a@example.com"), ("status", "lost"),
    ("attributes", {"nested": {"deep": [1, 2, None]}}),
] + [(name, None) for name in ("name", "email", "phone", "intent", "timeline",
                               "qualification_score", "source")]


@pytest.mark.parametrize("field,value", VALID_BOUNDS)
def test_values_at_the_bounds_are_accepted(client, auth, conversation, field, value):
    response = client.post(LEADS, headers=auth,
                           json={"conversation_id": conversation["id"], field: value})
    assert response.status_code == 201, response.get_json()
    expected = int(value) if isinstance(value, float) else value
    assert response.get_json()[field] == expected


BAD_CREATE = [
    ({}, "conversation_id"),
    ({"conversation_id": None}, "conversation_id"),
    ({"conversation_id": "not-a-uuid"}, "conversation_id"),
    ({"conversation_id": "0" * 32}, "conversation_id"),
    ({"conversation_id": 42}, "conversation_id"),
    ({"name": "x" * 201}, "name"),
    ({"name": 5}, "name"),
    ({"name": ["Layla"]}, "name"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"email": "a" * 250 + "@x.io"}, "email"),
    ({"phone": "1" * 33}, "phone"),
    ({"intent": "i" * 41}, "intent"),
    ({"timeline": "t" * 41}, "timeline"),
    ({"source": "s" * 41}, "source"),
    ({"qualification_score": -1}, "qualification_score"),
    ({"qualification_score": 101}, "qualification_score"),
    ({"qualification_score": True}, "qualification_score"),
    ({"qualification_score": "5"}, "qualification_score"),
    ({"qualification_score": 5.5}, "qualification_score"),
    ({"qualification_score": 2 ** 70}, "qualification_score"),
    ({"status": "won"}, "status"),
    ({"status": None}, "status"),
    ({"status": "QUALIFIED"}, "status"),
    ({"attributes": None}, "attributes"),
    ({"attributes": [1, 2]}, "attributes"),
    ({"attributes": "bedrooms=3"}, "attributes"),
    ({"id": "b3c1c4f2-0000-4000-8000-000000000000"}, "id"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ({"unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize("change,field", BAD_CREATE)
def test_bad_create_bodies_are_400_naming_the_field(client, auth, conversation, table_counts,
                                                    change, field):
    body = {"conversation_id": conversation["id"], **change}
    if change == {}:
        body = {}
    before = table_counts()
    assert_error(client.post(LEADS, headers=auth, json=body), 400, "bad_request", field)
    assert table_counts() == before


def test_patch_changes_only_given_fields(client, auth, lead):
    response = client.patch(f"{LEADS}/{lead['id']}", headers=auth,
                            json={"email": "new@example.com", "name": None})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated["email"] == "new@example.com" and updated["name"] is None
    assert updated["status"] == lead["status"] and updated["created_at"] == lead["created_at"]
    assert updated["updated_at"] > lead["updated_at"]
    assert client.get(f"{LEADS}/{lead['id']}", headers=auth).get_json() == updated


def test_patch_deletes_only_the_attributes_it_sets_to_null(client, auth, conversation):
    lead = client.post(LEADS, headers=auth, json={
        "conversation_id": conversation["id"], "attributes": {"kept": None}}).get_json()
    assert lead["attributes"] == {"kept": None}
    response = client.patch(f"{LEADS}/{lead['id']}", headers=auth, json={"attributes": {"b": 1}})
    assert response.get_json()["attributes"] == {"kept": None, "b": 1}


def test_a_new_lead_was_created_and_updated_at_the_same_moment(lead):
    assert lead["created_at"] == lead["updated_at"]


def test_patch_shallow_merges_attributes_and_null_deletes(client, auth, conversation):
    lead = client.post(LEADS, headers=auth, json={
        "conversation_id": conversation["id"],
        "attributes": {"bedrooms": 2, "area": "Marina", "budget": {"min": 1}}}).get_json()
    response = client.patch(f"{LEADS}/{lead['id']}", headers=auth, json={
        "attributes": {"bedrooms": 3, "area": None, "budget": {"max": 9}, "new": True}})
    assert response.get_json()["attributes"] == {"bedrooms": 3, "budget": {"max": 9}, "new": True}


BAD_PATCH = [
    ({}, "_schema"),
    ({"conversation_id": "b3c1c4f2-0000-4000-8000-000000000000"}, "conversation_id"),
    ({"id": "x"}, "id"),
    ({"created_at": "2026-01-01T00:00:00.000000Z"}, "created_at"),
    ({"updated_at": "2026-01-01T00:00:00.000000Z"}, "updated_at"),
    ({"status": None}, "status"),
    ({"status": "won"}, "status"),
    ({"attributes": None}, "attributes"),
    ({"qualification_score": "90"}, "qualification_score"),
    ({"qualification_score": 101}, "qualification_score"),
    ({"name": "x" * 201}, "name"),
    ({"email": "nope"}, "email"),
    ({"whatever": 1}, "whatever"),
]


@pytest.mark.parametrize("body,field", BAD_PATCH)
def test_bad_patch_bodies_are_400_and_change_nothing(client, auth, lead, table_counts,
                                                     body, field):
    before = table_counts()
    response = client.patch(f"{LEADS}/{lead['id']}", headers=auth, json=body)
    error = assert_error(response, 400, "bad_request")
    assert field in error["fields"]
    assert table_counts() == before
    assert client.get(f"{LEADS}/{lead['id']}", headers=auth).get_json() == lead


@pytest.mark.parametrize("lead_id", [str(uuid.uuid4()), "not-a-uuid", "1", "x" * 300])
def test_unknown_lead_ids_are_404(client, auth, lead_id):
    assert_error(client.get(f"{LEADS}/{lead_id}", headers=auth), 404, "not_found")
    assert_error(client.patch(f"{LEADS}/{lead_id}", headers=auth, json={"name": "x"}),
                 404, "not_found")


def test_list_filters_by_status(client, auth):
    ids = {}
    for number, status in enumerate(["new", "qualified", "qualified", "lost"]):
        conversation = client.post("/api/v1/conversations", headers=auth, json={
            "channel": "voice", "customer_identifier": f"+1555000{number}"}).get_json()
        ids[number] = client.post(LEADS, headers=auth, json={
            "conversation_id": conversation["id"], "status": status}).get_json()["id"]
    page = client.get(f"{LEADS}?status=qualified", headers=auth).get_json()
    assert [lead["id"] for lead in page["data"]] == [ids[2], ids[1]]
    assert page["has_more"] is False and page["next_cursor"] is None


def test_stale_for_days_keeps_qualified_leads_without_recent_messages(app, client, auth):
    from vorel_lite.models import Conversation
    made = {}
    for name, status, last_message in [("never", "qualified", None),
                                       ("old", "qualified", "2020-01-01T00:00:00.000000Z"),
                                       ("recent", "qualified", "2999-01-01T00:00:00.000000Z"),
                                       ("old-new", "new", "2020-01-01T00:00:00.000000Z")]:
        conversation = client.post("/api/v1/conversations", headers=auth, json={
            "channel": "email", "customer_identifier": f"{name}@example.com"}).get_json()
        with app.app_context():
            (Conversation.update(last_message_at=last_message)
             .where(Conversation.id == conversation["id"]).execute())
        made[name] = client.post(LEADS, headers=auth, json={
            "conversation_id": conversation["id"], "status": status}).get_json()["id"]
    page = client.get(f"{LEADS}?stale_for_days=30", headers=auth).get_json()
    assert {lead["id"] for lead in page["data"]} == {made["never"], made["old"]}
    page = client.get(f"{LEADS}?stale_for_days=30&status=new", headers=auth).get_json()
    assert page["data"] == []


@pytest.mark.parametrize("query,field", [
    ("status=won", "status"), ("stale_for_days=0", "stale_for_days"),
    ("stale_for_days=366", "stale_for_days"), ("stale_for_days=abc", "stale_for_days"),
    ("stale_for_days=1.5", "stale_for_days"), ("limit=0", "limit"), ("limit=101", "limit"),
    ("limit=ten", "limit"), ("cursor=nope", "cursor"), ("sort=name", "sort"),
])
def test_bad_list_queries_are_400_naming_the_parameter(client, auth, query, field):
    assert_error(client.get(f"{LEADS}?{query}", headers=auth), 400, "bad_request", field)
