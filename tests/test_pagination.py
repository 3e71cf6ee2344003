"""Keyset pagination: limit, cursor, newest first, stable while rows are inserted."""
import pytest

from helpers import assert_error


def create_conversations(client, auth, count, offset=0):
    return [client.post("/api/v1/conversations", headers=auth, json={
        "channel": "voice", "customer_identifier": f"+1555{offset + i:07d}"}).get_json()["id"]
        for i in range(count)]


def walk(client, auth, path, limit, between_pages=None):
    seen, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(path + query, headers=auth).get_json()
        assert len(page["data"]) <= limit
        seen += [row["id"] for row in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return seen
        cursor = page["next_cursor"]
        assert cursor == page["data"][-1]["id"]
        if between_pages:
            between_pages()


def test_pages_cover_every_row_once_newest_first(client, auth):
    made = create_conversations(client, auth, 7)
    assert walk(client, auth, "/api/v1/conversations", 3) == made[::-1]
    assert walk(client, auth, "/api/v1/conversations", 7) == made[::-1]
    assert walk(client, auth, "/api/v1/conversations", 100) == made[::-1]


def test_rows_inserted_while_paging_are_neither_skipped_nor_repeated(client, auth):
    made = create_conversations(client, auth, 9)
    counter = iter(range(100, 200))
    seen = walk(client, auth, "/api/v1/conversations", 2,
                between_pages=lambda: create_conversations(client, auth, 1, next(counter)))
    assert seen == made[::-1]


def test_default_limit_is_25(client, auth):
    create_conversations(client, auth, 26)
    page = client.get("/api/v1/conversations", headers=auth).get_json()
    assert len(page["data"]) == 25 and page["has_more"] is True


@pytest.mark.parametrize("path", ["/api/v1/conversations", "/api/v1/leads", "/api/v1/events"])
@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=1.0", "limit"),
    ("limit=", "limit"), ("limit=true", "limit"), ("limit=99999999999999999999", "limit"),
    ("cursor=123", "cursor"), ("cursor=", "cursor"),
    ("cursor=00000000-0000-4000-8000-000000000000", "cursor"), ("page=2", "page"),
])
def test_bad_limit_or_cursor_is_400(client, auth, path, query, field):
    assert_error(client.get(f"{path}?{query}", headers=auth), 400, "bad_request", field)


def test_a_cursor_from_another_list_is_400(client, auth, lead):
    assert_error(client.get(f"/api/v1/conversations?cursor={lead['id']}", headers=auth),
                 400, "bad_request", "cursor")


def pages(client, auth, path, filters, limit):
    """The ids of every page of path with filters, in order, following next_cursor."""
    seen, cursor = [], None
    for _ in range(100):
        query = f"{filters}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{path}?{query}", headers=auth).get_json()
        seen += [row["id"] for row in page["data"]]
        if not page["has_more"]:
            return seen
        cursor = page["next_cursor"]
    raise AssertionError(f"paging never ended; seen {seen[:10]}...")


@pytest.mark.parametrize("path,filters", [
    ("/api/v1/leads", "status=qualified"), ("/api/v1/leads", "stale_for_days=30"),
    ("/api/v1/leads", "status=qualified&stale_for_days=30"),
    ("/api/v1/leads", "status=new"), ("/api/v1/leads", ""),
    ("/api/v1/events", "event=lead.created"), ("/api/v1/events", "event=lead.qualified"),
])
def test_filtered_pages_cover_the_filtered_list_once(client, auth, other_auth, path, filters):
    for number, conversation in enumerate(create_conversations(client, auth, 7)):
        status = "qualified" if number % 3 else "new"
        client.post("/api/v1/leads", headers=auth,
                    json={"conversation_id": conversation, "status": status})
    (other,) = create_conversations(client, other_auth, 1)
    client.post("/api/v1/leads", headers=other_auth,
                json={"conversation_id": other, "status": "qualified"})
    whole = client.get(f"{path}?{filters}&limit=100", headers=auth).get_json()["data"]
    assert whole, "the filter should keep some rows"
    for limit in (1, 2, 3):
        assert pages(client, auth, path, filters, limit) == [row["id"] for row in whole]


def test_a_cursor_of_another_tenant_is_400(client, auth, other_auth):
    (mine,) = create_conversations(client, auth, 1)
    (theirs,) = create_conversations(client, other_auth, 1, offset=1)
    assert client.get(f"/api/v1/conversations?cursor={mine}", headers=auth).status_code == 200
    assert_error(client.get(f"/api/v1/conversations?cursor={theirs}", headers=auth),
                 400, "bad_request", "cursor")
