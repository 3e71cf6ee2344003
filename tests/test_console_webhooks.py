"""The console's webhooks page: list, add (secret shown once), test, deliveries, redrive, remove."""
import hashlib
import hmac
import json
import re
import socket

import pytest

from console_helpers import csrf_token
from vorel_lite.models import (EVENT_TYPES, Event, Tenant, WebhookAttempt, WebhookDelivery,
                               WebhookSubscription)
from vorel_lite.webhooks.delivery import deliver_due
from vorel_lite.webhooks.secrets import decrypt_secret
from vorel_lite.webhooks.subscriptions import add_subscription, send_test_event

PAGE = "/settings/integrations/webhooks"
SECRET = re.compile(r"whsec_[0-9a-f]{48}")
DELIVERED = re.compile(r"Delivered: HTTP 200 in \d+ ms\.")


@pytest.fixture
def closed_url():
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def globex_subscription(app, receivers):
    """Tenant globex's subscription, to a receiver that would record anything sent to it."""
    receiver = receivers()
    with app.app_context():
        tenant = Tenant.create(slug="globex", name="globex")
        row, _ = add_subscription(tenant, receiver.url)
    return row, receiver


def add_webhook(console, url, events=(), description=""):
    """Post the add form with its token and return the answer."""
    return console.post(PAGE, data={"csrf_token": csrf_token(console, PAGE), "url": url,
                                    "events": list(events), "description": description})


def subscriptions(app, tenant_id):
    """Return the tenant's subscription rows."""
    with app.app_context():
        return list(WebhookSubscription.select().where(WebhookSubscription.tenant == tenant_id))


def subscribe(app, console, url, events=()):
    """Add a webhook through the page; return (its row, the secret the page showed)."""
    response = add_webhook(console, url, events)
    assert response.status_code == 303, response.text
    [secret] = SECRET.findall(console.get(response.headers["Location"]).text)
    with app.app_context():
        row = WebhookSubscription.get(WebhookSubscription.url == url)
    return row, secret


def act(console, subscription_id, action):
    """POST an action on a subscription with the token; return (answer, the page it leads to)."""
    path = f"{PAGE}/{subscription_id}/{action}"
    response = console.post(path, data={"csrf_token": csrf_token(console, PAGE)})
    return response, console.get(response.headers["Location"]) if response.status_code == 303 \
        else None


def delivery_rows(app):
    """Return every delivery, newest first."""
    with app.app_context():
        return list(WebhookDelivery.select().order_by(WebhookDelivery.created_at.desc()))


def make_event(tenant_id):
    """Record an event of the tenant (inside an app context) and return its id."""
    return Event.create(tenant=tenant_id, event="lead.created", data={}).id


def run_worker_once(app):
    """Deliver what is due now, in-process."""
    with app.app_context():
        deliver_due()


def new_lead(client, auth, number=1):
    """Create a conversation and a lead of tenant acme through the API."""
    conversation = client.post("/api/v1/conversations", headers=auth, json={
        "channel": "whatsapp", "customer_identifier": f"+97150000000{number}"}).get_json()
    assert client.post("/api/v1/leads", headers=auth, json={
        "conversation_id": conversation["id"]}).status_code == 201


@pytest.mark.parametrize("method, path", [
    ("GET", PAGE), ("POST", PAGE), ("GET", f"{PAGE}/x"), ("POST", f"{PAGE}/x/test"),
    ("POST", f"{PAGE}/x/redrive"), ("GET", f"{PAGE}/x/remove"), ("POST", f"{PAGE}/x/remove")])
def test_every_page_and_action_needs_sign_in(client, acme_id, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_nav_leads_to_the_page(console):
    assert f'<a href="{PAGE}">Webhooks</a>' in console.get("/").text


def test_every_form_needs_its_csrf_token(app, console, acme_id, receivers):
    receiver = receivers()
    row, _ = subscribe(app, console, receiver.url)
    with app.app_context():
        WebhookDelivery.create(subscription=row.id, event=make_event(row.tenant_id),
                               status="dead", attempts=6)
    paths = [PAGE] + [f"{PAGE}/{row.id}/{action}" for action in ("test", "redrive", "remove")]
    for path in paths:
        for token in (None, "forged-token"):
            data = {"url": "https://crm.example/hook"}
            if token:
                data["csrf_token"] = token
            response = console.post(path, data=data)
            assert response.status_code == 400, path
            assert response.content_type.startswith("text/html")
            assert "CSRF" in response.text
    assert [r.url for r in subscriptions(app, acme_id)] == [receiver.url]
    assert receiver.received == []
    assert [d.status for d in delivery_rows(app)] == ["dead"]


def test_another_tenants_subscription_is_not_found_and_left_alone(app, console,
                                                                  globex_subscription):
    row, receiver = globex_subscription
    with app.app_context():
        WebhookDelivery.create(subscription=row.id, event=make_event(row.tenant_id),
                               status="dead", attempts=6)
    listed = console.get(PAGE)
    assert row.id not in listed.text and receiver.url not in listed.text
    token = csrf_token(console, PAGE)
    for subscription_id in (row.id, "no-such-subscription"):
        base = f"{PAGE}/{subscription_id}"
        for method, path in (("GET", base), ("POST", f"{base}/test"),
                             ("POST", f"{base}/redrive"), ("GET", f"{base}/remove"),
                             ("POST", f"{base}/remove")):
            response = console.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path)
            assert response.content_type.startswith("text/html")
            assert "No such webhook subscription." in response.text
    assert receiver.received == []
    with app.app_context():
        assert WebhookSubscription.get_or_none(WebhookSubscription.id == row.id) is not None
        assert [d.status for d in WebhookDelivery.select()] == ["dead"]


def test_the_secret_is_shown_exactly_once_and_signs_the_deliveries(app, console, acme_id,
                                                                   receivers):
    receiver = receivers()
    response = add_webhook(console, receiver.url, description="CRM sync")
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert SECRET.search(response.text) is None
    shown = console.get(PAGE)
    assert shown.headers["Cache-Control"] == "no-store"
    secrets = SECRET.findall(shown.text)
    assert len(secrets) == 1
    secret = secrets[0]
    [row] = subscriptions(app, acme_id)
    with app.app_context():
        assert decrypt_secret(row.encrypted_secret) == secret
    assert (row.url, row.description, row.receives_all) == (receiver.url, "CRM sync", True)
    for path in (PAGE, f"{PAGE}/{row.id}", f"{PAGE}/{row.id}/remove"):
        page = console.get(path)
        assert page.status_code == 200
        assert SECRET.search(page.text) is None and secret[6:] not in page.text
    for path in (PAGE, f"{PAGE}/{row.id}"):
        page = console.get(path).text
        assert f"<code>{secret[:10]}…</code>" in page and "CRM sync" in page
    assert '<td data-label="Events">all</td>' in console.get(PAGE).text

    _, page = act(console, row.id, "test")
    [request] = receiver.requests()
    signature = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Webhook-Signature"] == signature
    assert SECRET.search(page.text) is None


def test_checked_events_are_the_ones_received(app, console, acme_id):
    subscribe(app, console, "https://crm.example/hook", ["lead.created", "booking.created"])
    [row] = subscriptions(app, acme_id)
    assert row.event_set == {"lead.created", "booking.created"} and not row.receives_all
    assert "lead.created, booking.created" in console.get(PAGE).text


def test_a_password_in_the_url_is_never_shown(app, console, acme_id, closed_url):
    url = closed_url.replace("http://", "http://n8n:pa55word-xyz@")
    row, _ = subscribe(app, console, url)
    masked = closed_url.replace("http://", "http://n8n:***@")
    for path in (PAGE, f"{PAGE}/{row.id}", f"{PAGE}/{row.id}/remove"):
        page = console.get(path).text
        assert masked in page and "pa55word-xyz" not in page, path
    _, tested = act(console, row.id, "test")
    assert "Not delivered:" in tested.text and "pa55word-xyz" not in tested.text
    _, removed = act(console, row.id, "remove")
    assert f"Removed the webhook to <bdi>{masked}</bdi>." in removed.text
    assert "pa55word-xyz" not in removed.text


@pytest.mark.parametrize("url, complaint", [
    ("", "Enter the URL that receives the events."),
    ("ftp://crm.example/hook", "Not an absolute http(s) URL with a host."),
    ("crm.example/hook", "Not an absolute http(s) URL with a host."),
    ("https://", "Not an absolute http(s) URL with a host."),
    ("https://crm.example:99999/hook", "Not a valid URL."),
    ("https://crm.example/h\r\nX-Injected: 1", "The URL contains a space or a control character"),
    ("https://crm.example/a b", "The URL contains a space or a control character"),
    ("https://crm.example/" + "a" * 2048, "Field cannot be longer than 2048 characters."),
])
def test_a_bad_url_is_refused_saying_why(app, console, acme_id, url, complaint):
    response = add_webhook(console, url)
    assert response.status_code == 400
    assert complaint in response.text
    assert SECRET.search(response.text) is None
    assert subscriptions(app, acme_id) == []


@pytest.mark.parametrize("data, complaint", [
    ({"events": ["lead.deleted"]}, "is not a valid choice"),
    ({"description": "x" * 201}, "Field cannot be longer than 200 characters."),
])
def test_bad_events_or_description_are_refused(app, console, acme_id, data, complaint):
    response = console.post(PAGE, data={"csrf_token": csrf_token(console, PAGE),
                                        "url": "https://crm.example/hook", **data})
    assert response.status_code == 400 and complaint in response.text
    assert subscriptions(app, acme_id) == []


def test_surrounding_spaces_are_trimmed_from_the_url(app, console, acme_id):
    assert add_webhook(console, "  https://crm.example/hook \n").status_code == 303
    assert [r.url for r in subscriptions(app, acme_id)] == ["https://crm.example/hook"]


def test_a_test_event_is_delivered_signed_and_not_recorded(app, console, acme_id, receivers):
    receiver = receivers()
    row, _ = subscribe(app, console, receiver.url)
    response, page = act(console, row.id, "test")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}/{row.id}"
    assert DELIVERED.search(page.text)
    assert 'class="flash success"' in page.text
    [request] = receiver.requests()
    envelope = json.loads(request["body"])
    assert envelope["event"] == request["headers"]["X-Webhook-Event"] == "webhook.test"
    assert envelope["data"] == {"subscription_id": row.id}
    assert envelope["tenant_id"] == acme_id
    assert delivery_rows(app) == []


@pytest.mark.parametrize("answer, complaint", [
    (500, "Not delivered: HTTP 500: ok"),
    ((410, {"error": "gone"}), 'Not delivered: HTTP 410: {"error": "gone"}'),
])
def test_a_refused_test_event_is_flashed_as_failed(app, console, acme_id, receivers, answer,
                                                   complaint):
    receiver = receivers([answer])
    row, _ = subscribe(app, console, receiver.url)
    _, page = act(console, row.id, "test")
    assert complaint.replace('"', "&#34;") in page.text
    assert 'class="flash error"' in page.text and "Delivered:" not in page.text


def test_a_test_event_to_a_closed_port_is_flashed_as_failed(app, console, acme_id, closed_url):
    row, _ = subscribe(app, console, closed_url)
    _, page = act(console, row.id, "test")
    assert "Not delivered: Failed to connect to 127.0.0.1" in page.text
    assert 'class="flash error"' in page.text


class TestPrivateTargetsDenied:
    @pytest.fixture
    def config(self, config):
        return {**config, "WEBHOOK_PRIVATE_TARGETS": "deny"}

    def test_a_test_event_to_loopback_is_refused_saying_why(self, app, console, acme_id,
                                                            receivers):
        receiver = receivers()
        # Added while its name resolved to a public address: sending checks again.
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "allow"
        row, _ = subscribe(app, console, receiver.url)
        app.config["WEBHOOK_PRIVATE_TARGETS"] = "deny"
        _, page = act(console, row.id, "test")
        assert ("Not delivered: not sent: 127.0.0.1 is not a public address "
                "(WEBHOOK_PRIVATE_TARGETS is deny)") in page.text
        assert receiver.received == []


def test_a_secret_that_cannot_be_decrypted_fails_the_test_saying_why(app, acme_id, receivers):
    receiver = receivers()
    with app.app_context():
        row, _ = add_subscription(Tenant.get_by_id(acme_id), receiver.url)
        app.config["SECRET_KEY"] = "another instance key, not the one"
        outcome = send_test_event(row)
    assert not outcome.delivered
    assert outcome.summary.startswith("Not delivered: cannot decrypt the webhook secret")
    assert receiver.received == []


def test_the_page_lists_recent_deliveries_newest_first_bounded(app, console, client, auth,
                                                               receivers, monkeypatch):
    receiver = receivers([200, 200, (503, b"busy")])
    row, _ = subscribe(app, console, receiver.url, ["lead.created"])
    for number in range(3):
        new_lead(client, auth, number)
    run_worker_once(app)  # one batch, sent oldest first
    newest = delivery_rows(app)
    assert [d.status for d in newest] == ["pending", "delivered", "delivered"]
    page = console.get(f"{PAGE}/{row.id}").text
    positions = [page.index(f'id="delivery-{d.id}"') for d in newest]
    assert positions == sorted(positions)
    failed = page[positions[0]:positions[1]]
    for text in ("lead.created", newest[0].event_id, "<b>pending</b>", ">1</td>", ">503</td>",
                 "HTTP 503: busy", newest[0].next_attempt_at[:19].replace("T", " ")):
        assert text in failed, text
    delivered = page[positions[1]:]
    assert "<b>delivered</b>" in delivered and ">200</td>" in delivered
    assert newest[1].finished_at[:19].replace("T", " ") in delivered
    assert '<li class="delivery-delivered">delivered <b>2</b></li>' in page
    assert '<li class="delivery-pending">pending <b>1</b></li>' in page

    import vorel_lite.console.webhooks as webhooks_page
    monkeypatch.setattr(webhooks_page, "RECENT_DELIVERIES", 2)
    page = console.get(f"{PAGE}/{row.id}").text
    assert [d.id in page for d in newest] == [True, True, False]
    assert "The newest 2 of 3, newest" in page


def test_redrive_turns_dead_deliveries_pending_then_they_are_delivered(app, console, client,
                                                                       auth, receivers):
    # 400 is a permanent refusal: dead-lettered on the first attempt.
    receiver = receivers([400, 400], default=200)
    row, _ = subscribe(app, console, receiver.url, ["lead.created"])
    new_lead(client, auth, 1)
    new_lead(client, auth, 2)
    run_worker_once(app)
    assert [d.status for d in delivery_rows(app)] == ["dead", "dead"]
    page = console.get(f"{PAGE}/{row.id}").text
    assert '<li class="delivery-dead">dead <b>2</b></li>' in page
    assert "Redrive 2 dead" in page
    listed = console.get(PAGE).text
    assert re.search(r'class="delivery-dead">\s*<b>2</b>', listed)

    response, page = act(console, row.id, "redrive")
    page = page.text
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}/{row.id}"
    assert "Re-queued 2 dead deliveries." in page
    assert '<li class="delivery-pending">pending <b>2</b></li>' in page
    assert '<li class="delivery-dead">dead <b>0</b></li>' in page and "Redrive" not in page
    assert [d.status for d in delivery_rows(app)] == ["pending", "pending"]
    assert "Re-queued 0 dead deliveries." in act(console, row.id, "redrive")[1].text

    run_worker_once(app)
    assert [d.status for d in delivery_rows(app)] == ["delivered", "delivered"]
    assert '<li class="delivery-delivered">delivered <b>2</b></li>' in console.get(
        f"{PAGE}/{row.id}").text


def test_removing_asks_first_then_deletes_with_the_deliveries(app, console, client, auth,
                                                              closed_url, receivers):
    row, _ = subscribe(app, console, closed_url)
    kept, _ = subscribe(app, console, receivers().url)
    new_lead(client, auth)
    run_worker_once(app)
    with app.app_context():
        assert WebhookDelivery.select().count() == 4 and WebhookAttempt.select().count() == 4
    confirm = console.get(f"{PAGE}/{row.id}/remove")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text and "Its 2 deliveries" in confirm.text
    assert len(subscriptions(app, row.tenant_id)) == 2

    response, listed = act(console, row.id, "remove")
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    removed = f"Removed the webhook to <bdi>{closed_url}</bdi>."
    assert removed in listed.text
    assert closed_url not in listed.text.replace(removed, "")
    assert [r.id for r in subscriptions(app, row.tenant_id)] == [kept.id]
    with app.app_context():
        assert {d.subscription_id for d in WebhookDelivery.select()} == {kept.id}
        assert {a.delivery.subscription_id for a in WebhookAttempt.select()} == {kept.id}
        assert WebhookAttempt.select().count() == 2
    assert console.get(f"{PAGE}/{row.id}").status_code == 404


def test_the_removal_question_counts_the_deliveries_in_words(app, console, client, auth,
                                                             receivers):
    row, _ = subscribe(app, console, receivers().url, events=("lead.created",))

    def question():
        return " ".join(console.get(f"{PAGE}/{row.id}/remove").text.split())

    assert "sent to it. It has no deliveries to delete. This cannot" in question()
    new_lead(client, auth)
    assert ("Its 1 delivery (0 delivered, 1 pending, 0 dead) and its attempts are deleted"
            in question())
    new_lead(client, auth, number=2)
    assert ("Its 2 deliveries (0 delivered, 2 pending, 0 dead) and their attempts are deleted"
            in question())


def test_every_event_type_is_offered(console):
    page = console.get(PAGE).text
    for event in EVENT_TYPES:
        assert f'value="{event}"' in page
