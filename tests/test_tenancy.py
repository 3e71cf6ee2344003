"""Another tenant's ids answer exactly like ids that do not exist."""
import uuid

from helpers import assert_error


def test_every_read_and_write_of_another_tenants_rows_is_404(client, auth, other_auth, lead,
                                                             table_counts):
    conversation_id, lead_id = lead["conversation_id"], lead["id"]
    before = table_counts()
    calls = [
        ("get", f"/api/v1/conversations/{conversation_id}", None),
        ("patch", f"/api/v1/conversations/{conversation_id}", {"customer_name": "x"}),
        ("get", f"/api/v1/leads/{lead_id}", None),
        ("patch", f"/api/v1/leads/{lead_id}", {"status": "lost"}),
        ("post", "/api/v1/leads", {"conversation_id": conversation_id}),
    ]
    for method, path, body in calls:
        theirs = getattr(client, method)(path, headers=other_auth, json=body)
        missing = getattr(client, method)(path.replace(lead_id, str(uuid.uuid4()))
                                          .replace(conversation_id, str(uuid.uuid4())),
                                          headers=other_auth, json=body)
        assert_error(theirs, 404, "not_found")
        # Same shape, same wording apart from the id itself: no enumeration.
        assert (theirs.get_json()["error"]["message"].split("'")[0]
                == missing.get_json()["error"]["message"].split("'")[0])
    assert table_counts() == before
    assert client.get(f"/api/v1/leads/{lead_id}", headers=auth).get_json() == lead


def test_lists_show_only_the_tenants_own_rows(client, auth, other_auth, lead):
    for path in ("/api/v1/conversations", "/api/v1/leads", "/api/v1/events"):
        assert client.get(path, headers=other_auth).get_json()["data"] == []
        assert client.get(path, headers=auth).get_json()["data"] != []


def test_another_tenants_cursor_is_rejected(client, auth, other_auth, lead):
    response = client.get(f"/api/v1/leads?cursor={lead['id']}", headers=other_auth)
    assert_error(response, 400, "bad_request", "cursor")
