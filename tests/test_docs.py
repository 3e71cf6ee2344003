"""GET /docs: the API reference page and its assets, served by vorel-lite itself, no key."""
from html.parser import HTMLParser

import pytest

ASSET_MAX_AGE = "max-age=31536000"


@pytest.fixture
def database_url(tmp_path):
    """The page reads no table: SQLite alone (the API's own tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path}/test.db"


class PageParser(HTMLParser):
    """Collect a page's scripts (their src and inline text) and every URL it refers to."""

    def __init__(self):
        super().__init__()
        self.scripts, self.urls, self.data_attributes = [], [], {}
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append({"src": attrs.get("src"), "text": ""})
            self._in_script = True
        self.urls += [value for name, value in attrs.items() if name in ("src", "href")]
        self.data_attributes.update({k: v for k, v in attrs.items() if k.startswith("data-")})

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["text"] += data


def fetch(client, url):
    """GET url, reading the file served and closing it."""
    return client.get(url, buffered=True)


def parse_page(client):
    response = client.get("/docs")
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    return response, parser


def test_docs_is_an_html_page_open_without_a_key(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<title>Vorel API (vorel-lite)" in response.get_data(as_text=True)
    # Not an API answer: no rate limit is counted or described for it.
    assert "X-RateLimit-Limit" not in response.headers


def test_the_page_starts_swagger_ui_on_the_served_document(client):
    response, page = parse_page(client)
    document_url = page.data_attributes["data-document-url"]
    assert client.get(document_url).get_json()["openapi"].startswith("3.1")
    sources = [script["src"] for script in page.scripts]
    assert any("swagger-ui-bundle.js" in src for src in sources)
    assert all(fetch(client, url).status_code == 200 for url in page.urls)


def test_the_page_refers_only_to_its_own_server(client):
    response, page = parse_page(client)
    assert page.urls
    # Relative to the page's own origin: no CDN, nothing another host could serve or see.
    assert all(url.startswith("/") and not url.startswith("//") for url in page.urls)
    assert "http://" not in response.get_data(as_text=True)
    assert "https://" not in response.get_data(as_text=True)


def test_the_content_security_policy_allows_only_the_page_s_own_origin(client):
    response, page = parse_page(client)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy
    # Nothing inline for the policy to refuse: every script is a file.
    assert page.scripts and all(script["src"] and not script["text"].strip()
                                for script in page.scripts)


@pytest.mark.parametrize("name, mimetypes", [
    ("swagger-ui-bundle.js", {"text/javascript", "application/javascript"}),
    ("swagger-ui.css", {"text/css"}),
    ("favicon-32x32.png", {"image/png"}),
])
def test_swagger_ui_assets_are_served_with_their_type_and_cached_long(client, name, mimetypes):
    response = fetch(client, f"/docs/swagger-ui/{name}")
    assert response.status_code == 200
    assert response.mimetype in mimetypes
    assert ASSET_MAX_AGE in response.headers["Cache-Control"]
    assert len(response.get_data()) > 100


def test_the_asset_urls_change_with_the_versions_they_serve(client):
    _, page = parse_page(client)
    # A year of caching is safe only because an upgrade changes every URL.
    assert all("?v=" in url for url in page.urls)
    init = next(script["src"] for script in page.scripts if "/docs/own/" in script["src"])
    response = fetch(client, init)
    assert response.status_code == 200
    assert response.mimetype in {"text/javascript", "application/javascript"}
    assert ASSET_MAX_AGE in response.headers["Cache-Control"]
    assert "SwaggerUIBundle(" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/docs/xyz",
    "/docs/",
    "/docs/swagger-ui/no-such-file.js",
    "/docs/own/no-such-file.js",
    "/docs/own/..%2F__init__.py",
    "/docs/swagger-ui/%2E%2E/__init__.py",
])
def test_unknown_docs_paths_are_404(client, path):
    response = fetch(client, path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_docs_refuses_writes(client):
    response = client.post("/docs")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
