"""The console in a real browser: sign in, issue a key, use it, revoke it, see it refused.

Headless Chromium through Playwright, as tests/test_docs_browser.py (skipped, saying why,
where either is missing, unless VOREL_TEST_REQUIRE_SERVICES=1). With
VOREL_TEST_CONSOLE_SCREENSHOTS=docs/console the README's screenshots are written there.
"""
import json
import os
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from console_helpers import PASSWORD, add_booking, add_operator
from test_docs_browser import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, chromium_or_skip
from vorel_lite.models import Appointment, Lead, format_timestamp
from vorel_lite.serving import make_server

# Read at import: the tests' autouse fixture hides every VOREL_* variable during a test.
SCREENSHOTS = os.environ.get("VOREL_TEST_CONSOLE_SCREENSHOTS")
EMAIL = "owner@example.com"
STATUSES = ("new", "qualified", "booked", "converted", "lost")


@pytest.fixture
def database_url(tmp_path):
    """SQLite alone: the pages are under test here, tests/test_console.py covers PostgreSQL."""
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def config(config):
    """Room for the month of leads the test makes with one key."""
    return {**config, "RATELIMIT_PER_KEY": "10000 per minute"}


@pytest.fixture
def base_url(app):
    """Serve app with `flask serve`'s server on a free loopback port, in a thread."""
    server = make_server(app, "127.0.0.1", 0, 4)
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.trigger.pull_trigger(server.close)
    thread.join(30)


@pytest.fixture
def browser():
    """A headless Chromium."""
    sync_playwright = chromium_or_skip()
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A desktop-sized tab recording every request it makes and every console error."""
    tab = browser.new_page(viewport={"width": 1100, "height": 800})
    tab.set_default_timeout(TIMEOUT_MS)
    tab.requested, tab.errors = [], []
    tab.on("request", lambda request: tab.requested.append(request.url))
    tab.on("console", lambda message: message.type == "error"
           and tab.errors.append(message.text))
    return tab


@pytest.fixture
def month_of_leads(app, client, auth):
    """Return how many leads tenant acme got: a few a day over 30 days, in every status."""
    now = datetime.now(timezone.utc)
    chance = random.Random(12)
    made = 0
    for days_ago in range(30):
        for status in chance.choices(STATUSES, weights=(5, 4, 2, 1, 2), k=chance.randint(1, 5)):
            conversation = client.post("/api/v1/conversations", headers=auth, json={
                "channel": "whatsapp", "customer_identifier": f"+9715000{made:05d}"}).get_json()
            lead = client.post("/api/v1/leads", headers=auth, json={
                "conversation_id": conversation["id"], "status": status}).get_json()
            with app.app_context():
                created = format_timestamp(now - timedelta(days=days_ago, minutes=made))
                Lead.update(created_at=created).where(Lead.id == lead["id"]).execute()
            made += 1
    return made


@pytest.fixture
def bookings_on_several_days(app, client, auth):
    """Book appointments for tenant acme on a few of the last 30 days, in every status."""
    now = datetime.now(timezone.utc)
    for days_ago, statuses in {0: ("confirmed", "confirmed", "rescheduled"), 1: ("completed",),
                               2: ("confirmed", "no_show"), 4: ("cancelled",),
                               6: ("completed", "completed", "cancelled"), 13: ("confirmed",),
                               27: ("no_show", "completed")}.items():
        for status in statuses:
            add_booking(app, client, auth, format_timestamp(now - timedelta(days=days_ago)),
                        status)


def chart_labels(app, model):
    """Return the bar titles the rows of model should get: {"YYYY-MM-DD: 2 no show", ...}."""
    today = datetime.now(timezone.utc).date()
    shown = {(today - timedelta(days=back)).isoformat() for back in range(30)}
    with app.app_context():
        counts = Counter((row.created_at[:10], row.status) for row in model.select())
    return {f"{day}: {number} {status.replace('_', ' ')}"
            for (day, status), number in counts.items() if day in shown}


def assert_chart_drawn(page, chart_id, labels):
    """Assert Chromium draws the chart's bars: one stack a day with data, to scale, titled."""
    drawn = [(bar.locator("title").text_content(), bar.bounding_box())
             for bar in page.locator(f"#{chart_id} rect.bar").all()]
    assert sorted(title for title, _ in drawn) == sorted(labels)
    stacks, unit_heights = {}, []
    for title, box in drawn:
        assert box["width"] > 0 and box["height"] > 0, title
        day, number = title.split(" ")[0].rstrip(":"), int(title.split(" ")[1])
        stacks.setdefault(day, set()).add(round(box["x"], 1))
        unit_heights.append(box["height"] / number)
    # To scale: a count of one is as high in every bar, whatever the day and status.
    assert unit_heights == pytest.approx([unit_heights[0]] * len(drawn), rel=0.02, abs=0.5)
    # A day's bars share one column; the days run left to right, oldest first.
    assert all(len(columns) == 1 for columns in stacks.values())
    columns = [stacks[day].pop() for day in sorted(stacks)]
    assert columns == sorted(columns) and len(set(columns)) == len(columns)


def assert_newest_bar_in_view(tab, chart_id):
    """Assert the chart's rightmost (newest) bar lies inside its scroll box's visible part."""
    box = tab.locator(f"#{chart_id}").evaluate("""svg => {
        const view = svg.parentElement.getBoundingClientRect();
        const boxes = [...svg.querySelectorAll("rect.bar")].map(
            bar => bar.getBoundingClientRect());
        const newest = boxes.reduce((a, b) => (b.right > a.right ? b : a));
        return {left: view.left, right: view.right, barLeft: newest.left,
                barRight: newest.right};
    }""")
    assert box["left"] <= box["barLeft"] and box["barRight"] <= box["right"], (chart_id, box)


def sign_in_tab(browser, base_url, email, viewport):
    """Return a new tab of the given viewport, signed in as email, on the overview."""
    tab = browser.new_page(viewport=viewport)
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(f"{base_url}/login")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{base_url}/")
    return tab


def assert_header_laid_out(tab, email, max_height):
    """Assert the header is under max_height px, inside the screen, each nav link on one line."""
    width = tab.viewport_size["width"]
    assert tab.evaluate("document.documentElement.scrollWidth") <= width, email
    assert tab.locator("header.top").bounding_box()["height"] < max_height, email
    links = tab.locator("header.top nav a")
    line = float(links.first.evaluate("link => getComputedStyle(link).lineHeight")[:-2])
    # The email, the sign-out button and every link are on the screen; a link's one word per
    # line ("Ov/er/vie/w") would be several line-heights tall.
    for item in links.all() + [tab.locator(".who"), tab.get_by_role("button", name="Sign out")]:
        box = item.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, (email, box)
        assert box["height"] < 1.5 * line, (email, item.text_content(), box)
    assert tab.locator(".who").get_attribute("title") == email
    # Given a row of their own, not squeezed beside the email: at most three rows of links.
    rows = {round(link.bounding_box()["y"]) for link in links.all()}
    assert len(rows) <= 3, (email, rows)


def call_api(base_url, key):
    """GET /api/v1/leads with key, from the test (not the browser); return the status."""
    request = urllib.request.Request(f"{base_url}/api/v1/leads",
                                     headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def screenshot(page, name):
    """Save the whole page as docs/console/<name>.png when screenshots are asked for."""
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_sign_in_issue_a_key_use_it_revoke_it(app, page, browser, base_url, month_of_leads,
                                              bookings_on_several_days):
    from playwright.sync_api import expect

    add_operator(app, EMAIL, "acme")
    page.goto(f"{base_url}/settings/integrations/api-keys")
    expect(page).to_have_url(f"{base_url}/login?next=%2Fsettings%2Fintegrations%2Fapi-keys")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/settings/integrations/api-keys")

    page.get_by_role("link", name="Overview").click()
    expect(page.locator("#count-leads")).to_have_text(str(month_of_leads))
    # The charts render with data: every day's counts, stacked by status, to scale.
    for chart_id, model in (("leads-chart", Lead), ("bookings-chart", Appointment)):
        assert_chart_drawn(page, chart_id, chart_labels(app, model))
    screenshot(page, "overview")

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("n8n")
    page.get_by_label("test").check()
    page.get_by_label("read", exact=True).check()
    page.get_by_role("button", name="Issue key").click()
    secret = page.locator("#new-key").input_value()
    assert secret.startswith("vapk_test_")
    expect(page.get_by_text("shown only this once")).to_be_visible()
    screenshot(page, "api-keys")
    assert call_api(base_url, secret) == 200
    # The form redirected to the list: reloading shows the key no more and issues nothing.
    expect(page).to_have_url(f"{base_url}/settings/integrations/api-keys")
    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("tr.active", has_text="n8n")).to_have_count(1)
    assert secret not in page.content()

    row = page.locator("tr.active", has_text="n8n")
    row.get_by_role("link", name="Revoke…").click()
    expect(page.get_by_role("heading", name="Revoke n8n?")).to_be_visible()
    screenshot(page, "revoke")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked n8n")
    expect(page.locator("tr.revoked", has_text="n8n")).to_be_visible()
    assert page.locator("#new-key").count() == 0
    assert call_api(base_url, secret) == 401

    # Readable on a phone: each key becomes a card, nothing wider than the screen.
    phone = browser.new_page(viewport={"width": 390, "height": 844},
                             storage_state=page.context.storage_state())
    phone.goto(f"{base_url}/settings/integrations/api-keys")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "api-keys-phone")
    # The overview's charts keep their labels readable: they scroll inside their box rather
    # than shrink (an 11 px label drawn at 390/600 of its size would be 7 px).
    phone.goto(base_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for chart_id in ("leads-chart", "bookings-chart"):
        label = phone.locator(f"#{chart_id} text").last
        assert label.evaluate("node => node.getBoundingClientRect().height") >= 10, chart_id
        assert phone.locator(f"#{chart_id}").evaluate(
            "svg => svg.parentElement.scrollWidth > svg.parentElement.clientWidth"), chart_id
        # They open on their newest days, where today's bars are, not on the oldest.
        assert_newest_bar_in_view(phone, chart_id)
    # On a desktop each chart fits its box whole, no scrolling.
    page.goto(base_url)
    for chart_id in ("leads-chart", "bookings-chart"):
        assert page.locator(f"#{chart_id}").evaluate(
            "svg => svg.parentElement.scrollWidth <= svg.parentElement.clientWidth"), chart_id
        assert_newest_bar_in_view(page, chart_id)

    # No CDN, no fonts from elsewhere: every request went to this server.
    origins = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
               for url in page.requested}
    assert origins == {base_url}
    assert page.errors == []


def test_add_a_webhook_send_a_test_event_see_a_delivery(app, page, browser, base_url, client,
                                                        auth, receivers):
    import hashlib
    import hmac

    from playwright.sync_api import expect

    from vorel_lite.webhooks.delivery import deliver_due

    receiver = receivers()
    add_operator(app, EMAIL, "acme")
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page).to_have_url(f"{base_url}/settings/integrations/webhooks")

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("lead.created").check()
    page.get_by_label("Description").fill("n8n")
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("#new-secret").input_value()
    assert secret.startswith("whsec_") and len(secret) == 54
    expect(page.get_by_text("shown only this once")).to_be_visible()
    screenshot(page, "webhooks")
    page.reload()
    expect(page.locator("#new-secret")).to_have_count(0)
    expect(page.locator("table.webhooks tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator("#new-secret")).to_have_count(0)
    assert secret not in page.content() and f"{secret[:10]}…" in page.content()

    page.get_by_role("link", name=receiver.url).click()
    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered: HTTP 200 in")
    [test_event] = receiver.requests()
    assert test_event["headers"]["X-Webhook-Event"] == "webhook.test"

    conversation = client.post("/api/v1/conversations", headers=auth, json={
        "channel": "whatsapp", "customer_identifier": "+971500000001"}).get_json()
    assert client.post("/api/v1/leads", headers=auth, json={
        "conversation_id": conversation["id"]}).status_code == 201
    with app.app_context():
        deliver_due()
    page.reload()
    expect(page.locator("tr.delivery-delivered", has_text="lead.created")).to_be_visible()
    expect(page.locator("#webhook-counts .delivery-delivered")).to_have_text("delivered 1")
    lead_event = receiver.requests()[-1]
    assert lead_event["headers"]["X-Webhook-Signature"] == hmac.new(
        secret.encode(), lead_event["body"], hashlib.sha256).hexdigest()

    # Readable on a phone: nothing wider than the screen, the list's nor the deliveries'.
    phone = browser.new_page(viewport={"width": 390, "height": 844},
                             storage_state=page.context.storage_state())
    for url in (f"{base_url}/settings/integrations/webhooks", page.url):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, url
    origins = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
               for url in page.requested}
    assert origins == {base_url}
    assert page.errors == []


def test_unknown_paths_are_the_apis_but_under_the_consoles_sections(page, base_url):
    from playwright.sync_api import expect

    # Chromium asks for text/html first; outside the console the answer is still the API's.
    for path in ("/nope", "/api/v2/leads"):
        answer = page.goto(f"{base_url}{path}")
        assert answer.request.all_headers()["accept"].startswith("text/html")
        assert answer.status == 404 and answer.headers["content-type"] == "application/json"
        assert answer.json()["error"]["code"] == "not_found"
    answer = page.goto(f"{base_url}/settings/integrations/nope")
    assert answer.status == 404 and answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/login")


def test_filter_leads_page_on_open_a_conversation_close_it(app, page, browser, base_url,
                                                           client, auth):
    from playwright.sync_api import expect

    from vorel_lite.models import Message

    def new_lead(number, name, channel="whatsapp", **fields):
        conversation = client.post("/api/v1/conversations", headers=auth, json={
            "channel": channel, "customer_identifier": f"+9715000{number:05d}",
            "customer_name": name}).get_json()
        lead = client.post("/api/v1/leads", headers=auth, json={
            "conversation_id": conversation["id"], "name": name,
            "phone": f"+9715000{number:05d}", **fields})
        assert lead.status_code == 201
        return lead.get_json()

    # The oldest qualified lead, so on the second page of them; its conversation has messages.
    layla = new_lead(0, "Layla Haddad", status="qualified", email="layla@example.com",
                     source="instagram ad", intent="buy", qualification_score=82)
    conversation_id = layla["conversation_id"]
    with app.app_context():
        Message.create(tenant=Lead.get().tenant_id, conversation=conversation_id,
                       sequence_number=1, direction="inbound", text="Is the flat still free?")
    for text in ("Yes, it is. Would you like to see it this week?", "Saturday at 10 works."):
        assert client.post(f"/api/v1/conversations/{conversation_id}/send", headers=auth,
                           json={"text": text}).status_code == 202
    assert client.post(f"/api/v1/leads/{layla['id']}/handoff", headers=auth, json={
        "reason": "wants a viewing", "summary": "Asks to see the flat on Saturday at 10."}
    ).status_code == 201
    # A name of bidirectional controls, and one long unbroken word.
    reversed_name = new_lead(31, "Sam \u202e0000 005 DEA dnufer")["conversation_id"]
    long_name = new_lead(32, "Wolfeschlegelsteinhausenbergerdorff" * 3)["conversation_id"]
    for number in range(1, 31):
        new_lead(number, f"Customer {number}", ("whatsapp", "voice", "webform")[number % 3],
                 status="qualified" if number % 6 else "new",
                 source=("website", "referral", "google ads")[number % 3],
                 qualification_score=40 + number)

    add_operator(app, EMAIL, "acme")
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Leads").click()
    expect(page.locator("table.leads tbody tr")).to_have_count(25)
    # Isolated, the name's override cannot carry its status badge over to its left.
    page.goto(f"{base_url}/conversations/{reversed_name}")
    name = page.locator("h1 bdi").bounding_box()
    badge = page.locator("#conversation-status").bounding_box()
    assert badge["x"] >= name["x"] + name["width"] - 1
    expect(page.locator("#conversation-status")).to_have_text("active")
    page.goto(f"{base_url}/leads")
    page.get_by_role("link", name="qualified", exact=True).click()
    expect(page).to_have_url(f"{base_url}/leads?status=qualified")
    rows = page.locator("table.leads tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.locator("td[data-label=Status]")).to_have_text(["qualified"] * 25)
    screenshot(page, "leads")
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(26 - 25)
    expect(rows.first).to_contain_text("instagram ad")

    page.get_by_role("link", name="Layla Haddad").click()
    expect(page).to_have_url(f"{base_url}/conversations/{conversation_id}")
    expect(page.locator("#messages .text")).to_have_text([
        "Is the flat still free?", "Yes, it is. Would you like to see it this week?",
        "Saturday at 10 works."])
    expect(page.locator("#message-1")).to_have_class("message inbound")
    expect(page.locator("table.handoffs tbody tr")).to_contain_text("wants a viewing")
    expect(page.locator("#conversation-status")).to_have_text("awaiting human")
    screenshot(page, "conversation")
    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("status")).to_have_text("Closed the conversation.")
    expect(page.locator("#conversation-status")).to_have_text("closed")
    expect(page.get_by_role("button", name="Close conversation")).to_have_count(0)
    page.get_by_role("link", name="Conversations", exact=True).click()
    page.get_by_role("link", name="closed", exact=True).click()
    expect(page.locator("table.conversations tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Layla Haddad")).to_be_visible()

    # Readable on a phone: nothing wider than the screen, the lists' nor the transcript's.
    phone = browser.new_page(viewport={"width": 390, "height": 844},
                             storage_state=page.context.storage_state())
    for path in ("/leads", "/conversations", f"/conversations/{conversation_id}",
                 f"/conversations/{long_name}", f"/conversations/{reversed_name}"):
        phone.goto(f"{base_url}{path}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
    origins = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
               for url in page.requested}
    assert origins == {base_url}
    assert page.errors == []


# Short, typical, and 76 characters with no break point: the header lays out for each.
EMAILS = ("a@ex.co", "you@example.com", EMAIL, f"{'operator' * 8}@example.com")


def test_the_header_lays_out_at_any_width_whatever_the_email(app, browser, base_url):
    for email in EMAILS:
        add_operator(app, email, "acme")
    for email in EMAILS:
        # On a phone brand, links and sign-out stack in a few short rows; on a desktop they
        # share one.
        for viewport, max_height in (({"width": 390, "height": 844}, 160),
                                     ({"width": 768, "height": 1024}, 120),
                                     ({"width": 1100, "height": 800}, 60)):
            tab = sign_in_tab(browser, base_url, email, viewport)
            assert_header_laid_out(tab, email, max_height)
            tab.context.close()
