"""GET /docs in a real browser: headless Chromium lists every operation and runs one with a key.

Needs Debian's chromium (/usr/bin/chromium) and Playwright for Python; without them these
tests are skipped, saying why, unless VOREL_TEST_REQUIRE_SERVICES=1 (CI), where they fail.
VOREL_TEST_DOCS_SCREENSHOT=docs/docs-page.png also writes the README's screenshot there.
"""
import os
import sys
import threading
from urllib.parse import urlsplit

import pytest

import services
from services import skip_or_fail
from vorel_lite.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
SCREENSHOT = os.environ.get("VOREL_TEST_DOCS_SCREENSHOT")
# Generous: the machine is shared and Swagger UI parses a 1.7 MB bundle.
TIMEOUT_MS = 60_000
LIST_LEADS = "#operations-Leads-listLeads"


def chromium_or_skip():
    """Return Playwright's sync_playwright, or skip saying what is missing (fail in CI)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright for Python is not installed (pip install -e '.[test]')"
    else:
        if os.access(CHROMIUM, os.X_OK):
            return sync_playwright
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    skip_or_fail(missing)


@pytest.fixture
def database_url(tmp_path):
    """SQLite alone: the page is under test here, the API's own tests cover PostgreSQL."""
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def base_url(app):
    """Serve app with `flask serve`'s server on a free loopback port, in a thread."""
    server = make_server(app, "127.0.0.1", 0, 4)
    thread = threading.Thread(target=server.run, name="docs-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closed from the server's own loop, which then ends.
    server.trigger.pull_trigger(server.close)
    thread.join(30)


@pytest.fixture
def page(base_url):
    """A headless Chromium tab; records every request it makes and every console error."""
    sync_playwright = chromium_or_skip()
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(TIMEOUT_MS)
        tab.requested, tab.errors = [], []
        tab.on("request", lambda request: tab.requested.append(request.url))
        tab.on("console", lambda message: message.type == "error"
               and tab.errors.append(message.text))
        yield tab
        browser.close()


def open_docs(page, base_url):
    """Open /docs and wait until Swagger UI has drawn the operations."""
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock")


def documented_operations(client):
    """Return {(METHOD, path): operationId} of the served document."""
    document = client.get("/api/v1/openapi.json").get_json()
    return {(method.upper(), path): operation["operationId"]
            for path, item in document["paths"].items() for method, operation in item.items()}


def save_screenshot(page, last):
    """Save the page from its top to the bottom of the element last, for the README."""
    # One tag folded, so the title, the operations and the answer fit in one picture.
    page.locator("#operations-tag-Conversations").click()
    bottom = last.evaluate("element => element.getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(path=SCREENSHOT, full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 16})


def test_the_page_lists_every_operation_of_the_document(page, base_url, client):
    open_docs(page, base_url)
    blocks = page.locator(".opblock")
    shown = blocks.evaluate_all("""blocks => blocks.map(block => [
        block.querySelector('.opblock-summary-method').textContent,
        block.querySelector('.opblock-summary-path').dataset.path,
        block.id])""")
    expected = documented_operations(client)
    assert {(method, path) for method, path, _ in shown} == set(expected)
    # Swagger UI's deep-link id of each block ends with its operationId.
    assert {block_id.rsplit("-", 1)[1] for _, _, block_id in shown} == set(expected.values())
    assert len(shown) == len(expected)
    assert page.errors == []


def test_try_it_out_lists_leads_once_a_key_is_authorized(page, base_url, client, auth, lead):
    from playwright.sync_api import expect

    open_docs(page, base_url)
    operation = page.locator(LIST_LEADS)
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    answer = operation.locator(".live-responses-table tr.response")

    operation.get_by_role("button", name="Execute").click()
    expect(answer.locator(".response-col_status")).to_have_text("401")

    page.get_by_role("button", name="Authorize").first.click()
    key = auth["Authorization"].removeprefix("Bearer ")
    page.locator(".modal-ux input#auth-bearer-value").fill(key)
    page.locator(".modal-ux").get_by_role("button", name="Apply credentials").click()
    page.locator(".modal-ux").get_by_role("button", name="Close").click()

    operation.get_by_role("button", name="Execute").click()
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text(lead["id"])
    # The curl Swagger UI shows carries the key as a bearer token.
    expect(operation.locator(".curl-command")).to_contain_text(f"Bearer {key}")

    if SCREENSHOT:
        save_screenshot(page, answer.locator("pre").first)
    # No CDN, no telemetry, no validator badge: every request went to this server.
    origins = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
               for url in page.requested}
    assert origins == {base_url}
    # The browser reports the first, unauthorized answer; nothing else went wrong.
    assert len(page.errors) == 1 and "status of 401" in page.errors[0]


@pytest.mark.parametrize("required, outcome", [(False, pytest.skip.Exception),
                                               (True, pytest.fail.Exception)])
def test_a_machine_without_chromium_skips_except_where_required(monkeypatch, required, outcome):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(services, "REQUIRE_SERVICES", required)
    with pytest.raises(outcome, match="no Chromium at /nonexistent/chromium"):
        chromium_or_skip()
