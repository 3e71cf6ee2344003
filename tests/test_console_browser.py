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
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from console_helpers import PASSWORD, add_operator
from test_docs_browser import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, chromium_or_skip
from vorel_lite.models import Lead, format_timestamp
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


def test_sign_in_issue_a_key_use_it_revoke_it(app, page, browser, base_url, month_of_leads):
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
    bars = page.locator("#leads-chart rect.bar")
    expect(bars.first).to_be_visible()
    # One bar a day at least, stacked by status.
    assert bars.count() > 30
    assert page.locator("#leads-chart").bounding_box()["height"] > 100
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

    # No CDN, no fonts from elsewhere: every request went to this server.
    origins = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
               for url in page.requested}
    assert origins == {base_url}
    assert page.errors == []
