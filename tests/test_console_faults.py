"""What a black-box trial of the console found (issue 12), each kept fixed: NUL in forms and
ids, uppercase ids, 500 pages, OPTIONS, test events that hold threads, private targets, secrets
in URLs, bidirectional text."""
import re
import threading
import time
import uuid

import pytest
from peewee import OperationalError

from console_helpers import KEYS_PAGE, add_operator, csrf_token, sign_in
from receiver import HANG
from vorel_lite.models import ApiKey, Conversation, Tenant, WebhookSubscription
from vorel_lite.outbound import redact_url
from vorel_lite.webhooks.subscriptions import add_subscription

PAGE = "/settings/integrations/webhooks"
GLOBEX = "ops@example.org"
BUSY = "a test event is already being sent"
# Right-to-left override: "Sam ‮0000 005 DEA dnufer" shows as "Sam refund AED 500 0000".
RLO_NAME = "Sam \u202e0000 005 DEA dnufer"


def signed_in_copy(app, console):
    """Return another client sharing console's session (a second tab)."""
    copy = app.test_client()
    copy.set_cookie("session", console.get_cookie("session").value)
    return copy


def acme_subscription(app, acme_id, url):
    """Add a subscription of tenant acme directly; return its row."""
    with app.app_context():
        return add_subscription(Tenant.get_by_id(acme_id), url)[0]


def post_form(console, path, form_page, **data):
    """POST data with the CSRF token of form_page's form."""
    return console.post(path, data={"csrf_token": csrf_token(console, form_page), **data})


def new_conversation(client, headers, **fields):
    response = client.post("/api/v1/conversations", headers=headers, json={
        "channel": "whatsapp", "customer_identifier": "+971500000001", **fields})
    assert response.status_code == 201
    return response.get_json()


# NUL and other text no database stores -----------------------------------------------------

@pytest.mark.parametrize("path, data, field", [
    (KEYS_PAGE, {"name": "x\x00y", "env": "live", "scopes": ["read"]}, "Name"),
    (PAGE, {"url": "https://crm.example/hook", "description": "x\x00y"}, "Description"),
    (PAGE, {"url": "https://crm.example/h\x00ok"}, "URL"),
])
def test_a_nul_in_a_console_field_is_a_400_naming_it(app, console, acme_id, path, data, field):
    response = post_form(console, path, path, **data)
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert (f"{field} contains a NUL character (\\u0000), which cannot be stored."
            in response.text)
    with app.app_context():
        assert ApiKey.select().where(ApiKey.tenant == acme_id).count() == 0
        assert WebhookSubscription.select().count() == 0


def test_a_nul_in_the_sign_in_email_is_a_400_naming_it(client, acme_id):
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                           "email": "ops\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert "Email contains a NUL character" in response.text
    assert client.get("/").status_code == 302


# Ids in console URLs -------------------------------------------------------------------------

ROW_PATHS = [("GET", f"{KEYS_PAGE}/{{}}/revoke"), ("POST", f"{KEYS_PAGE}/{{}}/revoke"),
             ("GET", f"{PAGE}/{{}}"), ("POST", f"{PAGE}/{{}}/test"),
             ("POST", f"{PAGE}/{{}}/redrive"), ("GET", f"{PAGE}/{{}}/remove"),
             ("POST", f"{PAGE}/{{}}/remove"), ("GET", "/conversations/{}"),
             ("POST", "/conversations/{}/close")]


@pytest.mark.parametrize("row_id", ["%00", "x%00y", f"{uuid.uuid4()}%00", "not-a-uuid",
                                    "%E2%80%AE", "x" * 300, str(uuid.uuid4()).replace("-", "")])
def test_an_id_that_is_no_uuid_is_a_404_page_on_every_row_url(console, row_id):
    token = csrf_token(console, "/")
    for method, path in ROW_PATHS:
        response = console.open(path.format(row_id), method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, path)
        assert response.content_type.startswith("text/html"), (method, path)
        assert "No such " in response.text, (method, path)


def test_an_uppercase_id_names_the_same_row_on_every_row_url(app, console, client, auth,
                                                             acme_id, receivers):
    with app.app_context():
        key = ApiKey.get(ApiKey.tenant == acme_id)
    subscription = acme_subscription(app, acme_id, receivers().url)
    conversation = new_conversation(client, auth)
    for path in (f"{KEYS_PAGE}/{key.id.upper()}/revoke", f"{PAGE}/{subscription.id.upper()}",
                 f"{PAGE}/{subscription.id.upper()}/remove",
                 f"/conversations/{conversation['id'].upper()}"):
        assert console.get(path).status_code == 200, path
    token = csrf_token(console, "/")
    for path, location in (
            (f"{PAGE}/{subscription.id.upper()}/test", f"{PAGE}/{subscription.id}"),
            (f"/conversations/{conversation['id'].upper()}/close",
             f"/conversations/{conversation['id']}"),
            (f"{KEYS_PAGE}/{key.id.upper()}/revoke", KEYS_PAGE)):
        response = console.post(path, data={"csrf_token": token})
        assert response.status_code == 303 and response.headers["Location"] == location, path
    with app.app_context():
        assert ApiKey.get_by_id(key.id).revoked_at is not None
        assert Conversation.get_by_id(conversation["id"]).status == "closed"


# Errors: the console's page, never the API's JSON ----------------------------------------------

def test_a_500_in_the_console_is_its_page_logged_and_telling_nothing(console, monkeypatch,
                                                                     caplog, client, auth):
    from vorel_lite.console import overview

    def broken(tenant_id):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(overview, "tenant_counts", broken)
    response = console.get("/", headers={"X-Request-Id": "trace-500"})
    assert response.status_code == 500
    assert response.content_type.startswith("text/html")
    assert "500 Internal Server Error" in response.text
    assert "Quote request id trace-500" in response.text
    assert "secret detail" not in response.text and "RuntimeError" not in response.text
    assert f'<a href="{KEYS_PAGE}">API keys</a>' in response.text  # the signed-in page
    assert response.headers["Cache-Control"] == "no-store"
    [record] = [r for r in caplog.records if r.name == "vorel_lite.errors"]
    assert "request_id=trace-500" in record.getMessage() and record.exc_info
    # The API's answer is still its envelope.
    assert client.get("/api/v1/leads?limit=x", headers=auth).is_json


def test_a_database_outage_in_the_console_is_a_503_page_with_retry_after(console,
                                                                         monkeypatch):
    from vorel_lite.console import overview

    def unavailable(tenant_id):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(overview, "tenant_counts", unavailable)
    response = console.get("/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.content_type.startswith("text/html")
    assert "The database is unavailable" in response.text
    assert "could not connect" not in response.text


@pytest.mark.parametrize("path", ["/", "/leads", "/conversations", KEYS_PAGE, PAGE,
                                  f"{PAGE}/{uuid.uuid4()}", "/login"])
def test_options_on_a_console_page_answers_allow_without_signing_in(client, acme_id, path):
    response = client.options(path)
    assert response.status_code in (200, 204)
    assert "GET" in response.headers["Allow"] and "OPTIONS" in response.headers["Allow"]
    assert "Location" not in response.headers and not response.data


# Test events: one at a time per tenant, rate-limited per tenant --------------------------------

def send_test(client, subscription_id):
    """POST the test action with the page's token; return the answer."""
    return post_form(client, f"{PAGE}/{subscription_id}/test", f"{PAGE}/{subscription_id}")


def test_a_tenant_sends_one_test_event_at_a_time_others_are_refused_at_once(
        app, console, acme_id, receivers):
    receiver = receivers([HANG])
    row = acme_subscription(app, acme_id, receiver.url)
    tab = signed_in_copy(app, console)
    token = csrf_token(tab, f"{PAGE}/{row.id}")
    first = {}
    sending = threading.Thread(target=lambda: first.setdefault("answer", tab.post(
        f"{PAGE}/{row.id}/test", data={"csrf_token": token})))
    sending.start()
    try:
        deadline = time.monotonic() + 30
        while not receiver.requests() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.requests()) == 1, "the first test event never arrived"
        started = time.monotonic()
        refused = send_test(console, row.id)
        assert time.monotonic() - started < app.config["WEBHOOK_TIMEOUT_SECONDS"]
        assert refused.status_code == 303
        page = console.get(refused.headers["Location"]).text
        assert BUSY in page and 'class="flash error"' in page
        assert len(receiver.requests()) == 1
    finally:
        receiver.release.set()
        sending.join(30)
    assert first["answer"].status_code == 303
    # Its slot is free again once the first has its outcome.
    page = console.get(send_test(console, row.id).headers["Location"]).text
    assert BUSY not in page and "Delivered: HTTP 200" in page
    assert len(receiver.requests()) == 2


def test_another_tenants_test_event_is_not_held_up(app, console, acme_id, receivers):
    receiver, other = receivers([HANG]), receivers()
    row = acme_subscription(app, acme_id, receiver.url)
    tab = signed_in_copy(app, console)
    token = csrf_token(tab, f"{PAGE}/{row.id}")
    sending = threading.Thread(target=tab.post, args=(f"{PAGE}/{row.id}/test",),
                               kwargs={"data": {"csrf_token": token}})
    sending.start()
    try:
        deadline = time.monotonic() + 30
        while not receiver.requests() and time.monotonic() < deadline:
            time.sleep(0.02)
        globex_id = add_operator(app, GLOBEX, "globex")
        globex = app.test_client()
        assert sign_in(globex, GLOBEX).status_code == 303
        theirs = acme_subscription(app, globex_id, other.url)
        page = globex.get(send_test(globex, theirs.id).headers["Location"]).text
        assert "Delivered: HTTP 200" in page and BUSY not in page
    finally:
        receiver.release.set()
        sending.join(30)


class TestTestEventRateLimit:
    @pytest.fixture
    def config(self, config):
        return {**config, "CONSOLE_TEST_EVENT_RATELIMIT": "2 per minute"}

    def test_test_events_are_limited_per_tenant(self, app, console, acme_id, receivers):
        receiver = receivers()
        row = acme_subscription(app, acme_id, receiver.url)
        for _ in range(2):
            assert send_test(console, row.id).status_code == 303
        refused = send_test(console, row.id)
        assert refused.status_code == 429
        assert refused.content_type.startswith("text/html") and "2 per 1 minute" in refused.text
        # A second operator of the tenant shares its limit; another tenant has its own.
        add_operator(app, "second@example.com", "acme")
        second = app.test_client()
        sign_in(second, "second@example.com")
        assert send_test(second, row.id).status_code == 429
        assert len(receiver.requests()) == 2
        globex_id = add_operator(app, GLOBEX, "globex")
        globex = app.test_client()
        sign_in(globex, GLOBEX)
        theirs = acme_subscription(app, globex_id, receiver.url)
        assert send_test(globex, theirs.id).status_code == 303


# Private targets refused when added; secrets in URLs masked ------------------------------------

class TestPrivateTargetsDeniedWhenAdded:
    @pytest.fixture
    def config(self, config):
        return {**config, "WEBHOOK_PRIVATE_TARGETS": "deny"}

    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.0.0.1",
                                      "[::1]"])
    def test_a_private_url_is_refused_by_the_form(self, app, console, acme_id, host):
        response = post_form(console, PAGE, PAGE, url=f"http://{host}:8080/hooks")
        assert response.status_code == 400
        assert "is not a public address (WEBHOOK_PRIVATE_TARGETS is deny)." in response.text
        with app.app_context():
            assert WebhookSubscription.select().count() == 0


@pytest.mark.parametrize("url, shown", [
    ("https://crm.example/hook?token=abc123", "https://crm.example/hook?token=***"),
    ("https://crm.example/h?token=abc123&team=sales&flag",
     "https://crm.example/h?token=***&team=***&flag"),
    ("https://n8n:pa55@crm.example/h?key=k1", "https://n8n:***@crm.example/h?key=***"),
    ("https://n8n:pa55@crm.example/h", "https://n8n:***@crm.example/h"),
    ("https://crm.example/hook", "https://crm.example/hook"),
    ("https://crm.example/hook?empty=", "https://crm.example/hook?empty="),
])
def test_redact_url_masks_passwords_and_query_values_keeping_names(url, shown):
    assert redact_url(url) == shown


def test_a_token_in_a_webhook_urls_query_is_never_shown(app, console, acme_id, runner):
    url = "https://crm.example/hook?token=abc123secret&team=sales"
    response = post_form(console, PAGE, PAGE, url=url)
    assert response.status_code == 303
    [row] = _subscriptions(app)
    masked = "https://crm.example/hook?token=***&amp;team=***"
    for path in (PAGE, f"{PAGE}/{row.id}", f"{PAGE}/{row.id}/remove"):
        page = console.get(path).text
        assert masked in page and "abc123secret" not in page, path
    listed = runner.invoke(args=["webhooks", "list"]).output
    assert "?token=***&team=***" in listed and "abc123secret" not in listed
    removed = post_form(console, f"{PAGE}/{row.id}/remove", f"{PAGE}/{row.id}/remove")
    page = console.get(removed.headers["Location"]).text
    assert f"Removed the webhook to <bdi>{masked}</bdi>." in page
    assert "abc123secret" not in page


def _subscriptions(app):
    with app.app_context():
        return list(WebhookSubscription.select())


# Bidirectional text isolated; the overview's words ---------------------------------------------

ISOLATED = re.compile(r"<bdi[^>]*>[^<]*</bdi>|dir=\"auto\">[^<]*<")


def test_api_text_with_bidi_controls_is_isolated_on_every_page(app, console, client, auth,
                                                               acme_id):
    conversation = new_conversation(client, auth, customer_name=RLO_NAME,
                                    customer_identifier="+97150\u202e0001")
    assert "id" in client.post("/api/v1/leads", headers=auth, json={
        "conversation_id": conversation["id"], "name": RLO_NAME,
        "source": "\u202eweb"}).get_json()
    client.post(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth,
                json={"direction": "inbound", "text": RLO_NAME})
    for path in ("/leads", "/conversations", f"/conversations/{conversation['id']}"):
        page = console.get(path).text
        assert RLO_NAME in page, path
        outside = ISOLATED.sub("", page)
        assert "\u202e" not in outside, (path, outside[outside.find("\u202e") - 80:][:160])
    page = console.get(f"/conversations/{conversation['id']}").text
    assert f"<h1><bdi>{RLO_NAME}</bdi>" in page


def test_operator_text_with_bidi_controls_is_isolated_too(app, console, acme_id):
    post_form(console, KEYS_PAGE, KEYS_PAGE, name="n8n \u202eyek", env="live", scopes=["read"])
    post_form(console, PAGE, PAGE, url="https://crm.example/\u202ehook",
              description="sync \u202e cnys")
    [row] = _subscriptions(app)
    with app.app_context():
        key = ApiKey.get(ApiKey.tenant == acme_id)
    for path in (KEYS_PAGE, f"{KEYS_PAGE}/{key.id}/revoke", PAGE, f"{PAGE}/{row.id}",
                 f"{PAGE}/{row.id}/remove"):
        page = console.get(path).text
        assert "\u202e" in page and "\u202e" not in ISOLATED.sub("", page), path


def test_the_overview_says_what_the_key_count_is(app, console, acme_id, make_key):
    make_key("acme")
    page = console.get("/").text
    assert '<p class="big" id="count-keys">1</p>' in page
    assert re.search(r'<p class="sub">active key ·\s+<a href="/settings/integrations/api-keys">'
                     r"Issue or revoke</a></p>", page)
    make_key("acme")
    assert "active keys ·" in console.get("/").text
