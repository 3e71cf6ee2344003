"""The console's /leads and /conversations: one tenant's rows, keyset pages, status filters, a
conversation's messages and handoffs, and closing it (conversation.closed, once)."""
import html
import re
import uuid
from datetime import datetime, timezone

import pytest

from console_helpers import CSRF_FIELD, csrf_token
from vorel_lite.models import Conversation, Lead, Message, format_timestamp

LEAD_ROW = re.compile(r'<tr id="lead-([0-9a-f-]{36})"')
CONVERSATION_ROW = re.compile(r'<tr id="conversation-([0-9a-f-]{36})"')
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)">Next page</a>')
CLOSED_EVENTS = "/api/v1/events?event=conversation.closed"


def new_leads(client, headers, number, **fields):
    """Create number conversations of the key's tenant, each with a lead; return the leads."""
    leads = []
    for _ in range(number):
        conversation = client.post("/api/v1/conversations", headers=headers, json={
            "channel": "whatsapp", "customer_identifier": f"+9715{uuid.uuid4().int % 10**8:08d}"})
        assert conversation.status_code == 201
        lead = client.post("/api/v1/leads", headers=headers, json={
            "conversation_id": conversation.get_json()["id"], **fields})
        assert lead.status_code == 201
        leads.append(lead.get_json())
    return leads


def walk(console, path, row):
    """Follow the Next page links from path; return the row ids of every page, in order."""
    ids, pages = [], 0
    while path:
        response = console.get(path)
        assert response.status_code == 200, path
        ids.extend(row.findall(response.text))
        pages += 1
        link = NEXT_PAGE.search(response.text)
        path = html.unescape(link.group(1)) if link else None
    return ids, pages


def newest_first(app, model, tenant_id, **where):
    """Return the ids of the tenant's rows of model (with the where values), newest first."""
    with app.app_context():
        query = model.select().where(model.tenant == tenant_id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return [row.id for row in sorted(query, key=lambda r: (r.created_at, r.id),
                                         reverse=True)]


def closed_events(client, headers):
    """Return the data of the tenant's conversation.closed events."""
    return [event["data"] for event in client.get(CLOSED_EVENTS, headers=headers)
            .get_json()["data"]]


def status_of(app, conversation_id):
    with app.app_context():
        return Conversation.get_by_id(conversation_id).status


@pytest.mark.parametrize("method, path", [
    ("GET", "/leads"), ("GET", "/conversations"), ("GET", f"/conversations/{uuid.uuid4()}"),
    ("POST", f"/conversations/{uuid.uuid4()}/close")])
def test_every_page_and_action_needs_sign_in(client, acme_id, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_nav_leads_to_both_lists(console):
    page = console.get("/").text
    assert page.index('href="/">Overview') < page.index('href="/leads">Leads') < page.index(
        'href="/conversations">Conversations')
    for path in ("/leads", "/conversations"):
        response = console.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_the_leads_page_shows_what_an_operator_needs(console, client, auth):
    [lead] = new_leads(client, auth, 1, name="Layla Haddad", email="layla@example.com",
                       phone="+971500000001", status="qualified", source="instagram ad",
                       intent="buy", qualification_score=80)
    page = console.get("/leads").text
    for text in ("Layla Haddad", "<bdi>layla@example.com</bdi>, <bdi>+971500000001</bdi>",
                 "qualified", "80", "buy", "instagram ad", "whatsapp",
                 lead["created_at"][:16].replace("T", " "),
                 f'href="/conversations/{lead["conversation_id"]}"'):
        assert text in page, text
    assert NEXT_PAGE.search(page) is None


def test_keyset_pages_walk_every_row_once_newest_first(app, console, client, auth, acme_id):
    leads = new_leads(client, auth, 58)
    # Rows sharing a created_at are ordered by id; a page may end inside such a group.
    with app.app_context():
        for index, lead in enumerate(leads):
            moment = f"2030-01-01T00:00:{index // 4:02d}.000000Z"
            Lead.update(created_at=moment).where(Lead.id == lead["id"]).execute()
            Conversation.update(created_at=moment).where(
                Conversation.id == lead["conversation_id"]).execute()
    for path, model, row in (("/leads", Lead, LEAD_ROW),
                             ("/conversations", Conversation, CONVERSATION_ROW)):
        ids, pages = walk(console, path, row)
        assert pages == 3
        assert ids == newest_first(app, model, acme_id)
        assert len(set(ids)) == 58


def test_another_tenants_rows_are_never_listed(console, client, auth, other_auth):
    mine = new_leads(client, auth, 2, name="Mine")
    theirs = new_leads(client, other_auth, 30, name="Theirs", status="qualified")
    for path in ("/leads", "/leads?status=qualified", "/conversations"):
        page = console.get(path).text
        assert "Theirs" not in page and NEXT_PAGE.search(page) is None
        for lead in theirs:
            assert lead["id"] not in page and lead["conversation_id"] not in page
    assert set(LEAD_ROW.findall(console.get("/leads").text)) == {lead["id"] for lead in mine}


def test_the_status_filter_lists_only_that_status_on_every_page(app, console, client, auth,
                                                                acme_id):
    new_leads(client, auth, 27, status="qualified")
    new_leads(client, auth, 3, status="lost")
    ids, pages = walk(console, "/leads?status=qualified", LEAD_ROW)
    assert pages == 2 and ids == newest_first(app, Lead, acme_id, status="qualified")
    assert walk(console, "/leads?status=lost", LEAD_ROW)[0] == newest_first(
        app, Lead, acme_id, status="lost")
    assert len(walk(console, "/leads?status=", LEAD_ROW)[0]) == 30
    assert walk(console, "/leads?status=booked", LEAD_ROW)[0] == []
    assert "No booked leads." in console.get("/leads?status=booked").text
    page = console.get("/leads?status=lost").text
    assert '<a href="/leads?status=lost" aria-current="page">lost</a>' in page


def test_the_conversation_status_filter(app, console, client, auth, runner, acme_id):
    leads = new_leads(client, auth, 3)
    assert client.post(f"/api/v1/leads/{leads[0]['id']}/handoff", headers=auth
                       ).status_code == 201
    assert runner.invoke(args=["conversations", "close", leads[1]["conversation_id"]]
                         ).exit_code == 0
    for status, lead in (("awaiting_human", leads[0]), ("closed", leads[1]),
                         ("active", leads[2])):
        page = console.get(f"/conversations?status={status}").text
        assert CONVERSATION_ROW.findall(page) == [lead["conversation_id"]], status
    page = console.get("/conversations?status=awaiting_human").text
    assert "<h1>Conversations: awaiting human</h1>" in page


@pytest.mark.parametrize("query, complaint", [
    ("status=bogus", "There is no status &#39;bogus&#39;"),
    ("status=QUALIFIED", "There is no status"),
    ("status=" + "x" * 500, "x" * 99 + "…"),
    ("cursor=not-a-uuid", "start again from the first page"),
    (f"cursor={uuid.uuid4()}", "start again from the first page"),
    ("cursor=%20", "start again from the first page"),
])
@pytest.mark.parametrize("path", ["/leads", "/conversations"])
def test_a_bad_status_or_cursor_is_a_400_page(console, path, query, complaint):
    response = console.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert complaint in response.text
    assert "x" * 101 not in response.text


def test_a_cursor_of_another_list_or_tenant_is_a_400_page(console, client, auth, other_auth):
    [mine] = new_leads(client, auth, 1)
    [theirs] = new_leads(client, other_auth, 1)
    for path in (f"/leads?cursor={theirs['id']}", f"/leads?cursor={mine['conversation_id']}",
                 f"/conversations?cursor={theirs['conversation_id']}",
                 f"/conversations?cursor={mine['id']}", "/leads?status=booked&cursor=x"):
        response = console.get(path)
        assert response.status_code == 400, path
        assert "start again from the first page" in response.text
    assert console.get(f"/leads?cursor={mine['id'].upper()}").status_code == 200


def test_a_conversation_shows_its_messages_in_order_and_its_handoffs(app, console, client,
                                                                     auth, acme_id):
    [lead] = new_leads(client, auth, 1, name="Layla", email="layla@example.com")
    conversation_id = lead["conversation_id"]
    texts = ["Hello, is the flat still free?", "Yes, it is. When would you like to see it?",
             "مساء الخير، السبت؟", "Saturday at 10 works."]
    with app.app_context():
        # Stored out of order (ids random, sent_at reversed): the page follows sequence_number.
        for number in (3, 1, 4, 2):
            Message.create(tenant=acme_id, conversation=conversation_id, sequence_number=number,
                           direction="inbound" if number % 2 else "outbound",
                           text=texts[number - 1], language="ar" if number == 3 else "en",
                           sent_at=format_timestamp(datetime(2030, 1, 1, 12, 5 - number,
                                                             tzinfo=timezone.utc)))
    assert client.post(f"/api/v1/leads/{lead['id']}/handoff", headers=auth, json={
        "reason": "wants a viewing", "summary": "Asked for Saturday 10:00."}).status_code == 201
    response = console.get(f"/conversations/{conversation_id}")
    assert response.status_code == 200
    page = html.unescape(response.text)
    positions = [page.index(text) for text in texts]
    assert positions == sorted(positions)
    assert re.findall(r'id="message-(\d+)"', page) == ["1", "2", "3", "4"]
    assert 'class="message inbound" id="message-1"' in page
    assert 'class="message outbound" id="message-2"' in page
    for text in ("wants a viewing", "Asked for Saturday 10:00.", "email", "awaiting human",
                 "Layla", "layla@example.com", "+9715"):
        assert text in page, text
    assert "Close conversation" in page


def test_a_conversation_without_messages_or_handoffs_says_so(console, client, auth):
    [lead] = new_leads(client, auth, 1)
    page = console.get(f"/conversations/{lead['conversation_id']}").text
    assert "No messages yet." in page and "No handoffs: nobody asked for a person yet." in page


def test_closing_emits_conversation_closed_once_and_twice_changes_nothing(
        app, console, client, auth):
    [lead] = new_leads(client, auth, 1)
    conversation_id = lead["conversation_id"]
    path = f"/conversations/{conversation_id}"
    token = csrf_token(console, path)
    response = console.post(f"{path}/close", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == path
    page = console.get(path).text
    assert "Closed the conversation." in page and "This conversation is closed." in page
    assert "Close conversation" not in page
    closed = client.get(f"/api/v1/conversations/{conversation_id}", headers=auth).get_json()
    assert closed["status"] == "closed"
    assert closed_events(client, auth) == [closed]
    again = console.post(f"/conversations/{conversation_id.upper()}/close",
                         data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"] == path
    assert "already closed; nothing changed." in console.get(path).text
    assert closed_events(client, auth) == [closed]


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_closing_needs_the_csrf_token(app, console, client, auth, token):
    [lead] = new_leads(client, auth, 1)
    response = console.post(f"/conversations/{lead['conversation_id']}/close",
                            data={"csrf_token": token} if token else {})
    assert response.status_code == 400
    assert response.content_type.startswith("text/html") and "CSRF" in response.text
    assert status_of(app, lead["conversation_id"]) == "active"
    assert closed_events(client, auth) == []


def test_another_tenants_or_a_malformed_conversation_is_not_found(app, console, client,
                                                                  other_auth):
    [theirs] = new_leads(client, other_auth, 1)
    token = CSRF_FIELD.search(console.get("/conversations").text).group(1)
    for conversation_id in (theirs["conversation_id"], str(uuid.uuid4()), "not-a-uuid",
                            "x" * 300, theirs["id"]):
        path = f"/conversations/{conversation_id}"
        for response in (console.get(path),
                         console.post(f"{path}/close", data={"csrf_token": token})):
            assert response.status_code == 404, path
            assert response.content_type.startswith("text/html")
            assert "No such conversation." in response.text
    assert status_of(app, theirs["conversation_id"]) == "active"
    assert closed_events(client, other_auth) == []


def test_the_cli_still_closes_any_tenants_conversation(app, runner, client, other_auth,
                                                       acme_id):
    from vorel_lite.commands.conversations import close_conversation
    [theirs] = new_leads(client, other_auth, 1)
    with app.app_context(), pytest.raises(LookupError):
        close_conversation(theirs["conversation_id"], tenant_id=acme_id)
    assert status_of(app, theirs["conversation_id"]) == "active"
    result = runner.invoke(args=["conversations", "close", theirs["conversation_id"]])
    assert result.exit_code == 0 and "Closed" in result.output
    assert status_of(app, theirs["conversation_id"]) == "closed"
    assert len(closed_events(client, other_auth)) == 1
