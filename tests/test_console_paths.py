"""Whose a path is: the console's pages and errors under its sections, the API's everywhere else."""
import pytest

from console_helpers import CSRF_FIELD, PASSWORD, add_operator, sign_in
from vorel_lite.console.blueprint import console_sections

OPERATOR = "ops@example.com"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def signed_in(app, client):
    """A client signed in as an operator of tenant acme."""
    add_operator(app, OPERATOR, "acme")
    assert sign_in(client, OPERATOR).status_code == 303
    return client


def assert_console_page(response, status):
    """Assert response is the console's HTML error page for status."""
    assert response.status_code == status
    assert response.content_type == "text/html; charset=utf-8"
    assert f"<h1>{status} " in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def assert_envelope(response, status, code):
    """Assert response is the API's JSON error envelope."""
    assert response.status_code == status
    assert response.content_type == "application/json"
    assert response.get_json()["error"]["code"] == code
    assert "Set-Cookie" not in response.headers


def test_the_console_sections_are_its_routes_first_segments(app):
    assert {"login", "logout", "settings", "console"} <= console_sections(app)
    assert not {"api", "docs", "healthz", "metrics", ""} & console_sections(app)


@pytest.mark.parametrize("path", ["/nope", "/api/v2/x", "/api/v1/nope", "/api", "/metrics",
                                  "/docs/nope", "/healthz/x", "/static/console.css",
                                  "//settings/integrations/api-keys", "/loginx", "/settings-x"])
@pytest.mark.parametrize("headers", [BROWSER, {"Accept": "application/json"}, {}])
def test_an_unknown_path_outside_the_console_answers_the_api_envelope(client, path, headers):
    assert_envelope(client.get(path, headers=headers), 404, "not_found")


@pytest.mark.parametrize("path", ["/settings", "/settings/integrations", "/login/",
                                  "/login/x", "/logout/x", "/settings/integrations/nope",
                                  "/console/static/nope.css", "/console/nope"])
def test_an_unknown_path_under_the_console_answers_its_page(client, path):
    for headers in (BROWSER, {"Accept": "application/json"}):
        response = client.get(path, headers=headers)
        assert_console_page(response, 404)
        assert 'href="/login">' in response.text


def test_each_console_sections_unknown_paths_are_its_own(app, client):
    for section in console_sections(app):
        assert_console_page(client.get(f"/{section}/no/such/page"), 404)


def test_a_signed_in_operators_unknown_page_keeps_the_console_around_it(signed_in):
    response = signed_in.get("/settings/integrations/nope", headers=BROWSER)
    assert_console_page(response, 404)
    assert OPERATOR in response.text and "Back to the overview" in response.text
    # The console's own 404s (another tenant's key) are still its page too.
    assert_console_page(signed_in.get("/settings/integrations/api-keys/nope/revoke"), 404)


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/login", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("DELETE", "/", {"GET", "HEAD", "OPTIONS"}),
    ("GET", "/logout", {"OPTIONS", "POST"})])
def test_a_wrong_method_on_a_console_page_answers_its_page_with_allow(client, method, path,
                                                                      allowed):
    response = client.open(path, method=method, headers=BROWSER)
    assert_console_page(response, 405)
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_a_wrong_method_on_the_api_still_answers_the_envelope(client, auth):
    response = client.put("/api/v1/leads", headers={**auth, **BROWSER})
    assert_envelope(response, 405, "bad_request")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


class TestBehindAnHttpsProxy:
    """TRUSTED_PROXIES trusts X-Forwarded-Proto too: over HTTPS a form's Referer is checked."""

    @pytest.fixture
    def config(self, config):
        return {**config, "TRUSTED_PROXIES": 1}

    def post_sign_in(self, client, **headers):
        """Post the sign-in form, with its token, as forwarded by an HTTPS proxy."""
        token = CSRF_FIELD.search(client.get("/login").text).group(1)
        return client.post("/login", data={"csrf_token": token, "email": OPERATOR,
                                           "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https", **headers})

    @pytest.mark.parametrize("referer", [None, "https://evil.example.com/login",
                                         "http://localhost/login"])
    def test_a_form_from_another_origin_is_refused(self, app, client, referer):
        add_operator(app, OPERATOR, "acme")
        response = self.post_sign_in(client, **({"Referer": referer} if referer else {}))
        assert_console_page(response, 400)
        assert "referrer" in response.text
        assert client.get("/").status_code == 302

    def test_a_form_from_the_console_itself_is_accepted(self, app, client):
        add_operator(app, OPERATOR, "acme")
        response = self.post_sign_in(client, Referer="https://localhost/login")
        assert response.status_code == 303


def test_without_a_trusted_proxy_x_forwarded_proto_is_ignored(app, client):
    add_operator(app, OPERATOR, "acme")
    token = CSRF_FIELD.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": OPERATOR,
                                           "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
