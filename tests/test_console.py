"""The operator console: sign-in, CSRF, one tenant's rows only, a key shown once, no cookie API."""
import re

import pytest
from flask.sessions import SecureCookieSessionInterface

from console_helpers import (ACME, CSRF_FIELD, KEYS_PAGE, PASSWORD, SECRET, add_operator,
                             csrf_token, sign_in)
from vorel_lite.models import ApiKey, Operator
from vorel_lite.webhooks.secrets import decrypt_secret

GLOBEX = "ops@example.org"


@pytest.fixture
def globex_key(app, make_key):
    """An active key of tenant globex, with its row id."""
    headers = make_key("globex")
    with app.app_context():
        return ApiKey.get(ApiKey.tenant == ApiKey.select(ApiKey.tenant)
                          .where(ApiKey.revoked_at.is_null()).order_by(ApiKey.created_at.desc())
                          .limit(1)), headers


def issue(console, name="n8n", env="test", scopes=("read",)):
    """Post the issue form with its token and return the answer."""
    return console.post(KEYS_PAGE, data={"csrf_token": csrf_token(console, KEYS_PAGE),
                                         "name": name, "env": env, "scopes": list(scopes)})


def page_token(response):
    """Return the CSRF token a page carries."""
    return CSRF_FIELD.search(response.text).group(1)


def key_rows(app, tenant_id):
    """Return the tenant's key rows."""
    with app.app_context():
        return list(ApiKey.select().where(ApiKey.tenant == tenant_id))


@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", KEYS_PAGE), ("POST", KEYS_PAGE), ("GET", f"{KEYS_PAGE}/x/revoke"),
    ("POST", f"{KEYS_PAGE}/x/revoke"), ("POST", "/logout")])
def test_every_page_and_action_needs_sign_in(client, acme_id, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_signing_in_leads_on_to_the_page_asked_for(client, acme_id):
    location = client.get(KEYS_PAGE).headers["Location"]
    assert location == "/login?next=%2Fsettings%2Fintegrations%2Fapi-keys"
    response = sign_in(client, " OPS@example.com ", next_path="/settings/integrations/api-keys")
    assert response.status_code == 303
    assert response.headers["Location"] == KEYS_PAGE
    page = client.get(KEYS_PAGE)
    assert page.status_code == 200 and ACME in page.text


@pytest.mark.parametrize("target", ["//evil.example.com/", "https://evil.example.com/",
                                    "/\\evil.example.com", "javascript:alert(1)"])
def test_sign_in_never_leads_off_the_site(client, acme_id, target):
    response = sign_in(client, ACME, next_path=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_refused_sign_in_reads_the_same_for_an_unknown_email_and_a_wrong_password(
        client, acme_id):
    wrong_password = sign_in(client, ACME, password=PASSWORD + "!")
    unknown_email = sign_in(client, "nobody@example.com")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert "Wrong email or password." in response.text
    assert wrong_password.text.replace(ACME, "") == unknown_email.text.replace(
        "nobody@example.com", "").replace(page_token(unknown_email), page_token(wrong_password))
    assert client.get("/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site_lax(client, acme_id):
    cookie = sign_in(client, ACME).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


class TestSecureCookie:
    @pytest.fixture
    def config(self, config):
        return {**config, "SESSION_COOKIE_SECURE": True}

    def test_the_session_cookie_is_secure_when_configured(self, client, acme_id):
        cookie = sign_in(client, ACME).headers["Set-Cookie"]
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("path, data", [
    ("/login", {"email": ACME, "password": PASSWORD}),
    (KEYS_PAGE, {"name": "n8n", "env": "live", "scopes": ["read"]}),
    ("/logout", {}),
])
def test_every_form_needs_its_csrf_token(console, app, acme_id, path, data):
    for token in (None, "forged-token"):
        sent = dict(data, **({"csrf_token": token} if token else {}))
        response = console.post(path, data=sent)
        assert response.status_code == 400
        assert response.content_type.startswith("text/html")
        assert "CSRF" in response.text
    assert key_rows(app, acme_id) == []
    assert console.get("/").status_code == 200  # still signed in


def test_revoking_needs_the_csrf_token_too(console, app, acme_id):
    issue(console)
    key = key_rows(app, acme_id)[0]
    assert console.post(f"{KEYS_PAGE}/{key.id}/revoke").status_code == 400
    assert key_rows(app, acme_id)[0].revoked_at is None


def test_a_session_never_authorises_the_api(console, app):
    response = console.get("/api/v1/leads")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Set-Cookie" not in response.headers


def test_api_answers_never_carry_a_cookie(console, auth):
    for path in ("/api/v1/leads", "/api/v1/openapi.json", "/healthz", "/docs"):
        response = console.get(path, headers=auth)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path


def issued_secret(console, **fields):
    """Issue a key through the form, follow the redirect; return the secret the page shows."""
    response = issue(console, **fields)
    assert response.status_code == 303 and response.headers["Location"] == KEYS_PAGE
    return SECRET.search(console.get(KEYS_PAGE).text).group(0)


def test_a_new_key_is_shown_exactly_once_and_works(console, app, client, acme_id):
    response = issue(console, name="n8n", env="test", scopes=("read", "leads:write"))
    assert response.status_code == 303 and response.headers["Location"] == KEYS_PAGE
    assert SECRET.search(response.text) is None
    shown = console.get(KEYS_PAGE)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    secrets = SECRET.findall(shown.text)
    assert len(secrets) == 1
    secret = secrets[0]
    [row] = key_rows(app, acme_id)
    assert (row.name, row.env, row.scopes) == ("n8n", "test", "read leads:write")
    assert f"{row.display_prefix}…{row.last4}" in shown.text
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    listed = console.get(KEYS_PAGE)
    assert SECRET.search(listed.text) is None
    assert f"{row.display_prefix}…{row.last4}" in listed.text and "n8n" in listed.text


def test_reloading_the_page_of_a_new_key_shows_it_no_more_and_issues_nothing(
        console, app, acme_id):
    issued_secret(console)
    for _ in range(2):
        reloaded = console.get(KEYS_PAGE)
        assert reloaded.status_code == 200 and SECRET.search(reloaded.text) is None
    assert len(key_rows(app, acme_id)) == 1
    # Between the POST and the page, the session holds the secret encrypted, never in clear.
    issue(console)
    cookie = console.get_cookie("session").value
    kept = session_data(app, cookie)["issued_key"]
    [second] = [row for row in key_rows(app, acme_id) if row.id == kept["id"]]
    with app.app_context():
        plain = decrypt_secret(kept["secret"])
    assert SECRET.fullmatch(plain) and plain.endswith(second.last4)
    assert plain not in cookie and plain[-48:] not in cookie
    assert SECRET.search(console.get(KEYS_PAGE).text).group(0) == plain
    assert "issued_key" not in session_data(app, console.get_cookie("session").value)


def session_data(app, cookie):
    """Return what a console session cookie holds."""
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie)


def test_issuing_without_a_scope_is_refused(console, app, acme_id):
    response = issue(console, scopes=())
    assert response.status_code == 400
    assert "Choose at least one scope." in response.text
    assert SECRET.search(response.text) is None
    assert key_rows(app, acme_id) == []


@pytest.mark.parametrize("fields, legend, error", [
    ({"env": "prod"}, "Environment", "Choose the environment: live or test."),
    ({"env": ""}, "Environment", "Choose the environment: live or test."),
    ({"scopes": ("read", "admin")}, "Scopes", "is not a valid choice"),
])
def test_a_tampered_choice_is_refused_saying_so_under_its_field(console, app, acme_id, fields,
                                                                legend, error):
    response = issue(console, **fields)
    assert response.status_code == 400
    fieldset = re.search(rf"<fieldset><legend>{legend}</legend>(.*?)</fieldset>", response.text,
                         re.DOTALL).group(1)
    assert '<p class="field-error">' in fieldset and error in fieldset
    assert key_rows(app, acme_id) == []


def test_revoking_asks_first_then_the_key_is_refused(console, app, client, acme_id):
    secret = issued_secret(console)
    [key] = key_rows(app, acme_id)
    confirm = console.get(f"{KEYS_PAGE}/{key.id}/revoke")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert key_rows(app, acme_id)[0].revoked_at is None
    response = console.post(f"{KEYS_PAGE}/{key.id}/revoke",
                            data={"csrf_token": page_token(confirm)})
    assert response.status_code == 303 and response.headers["Location"] == KEYS_PAGE
    assert key_rows(app, acme_id)[0].revoked_at is not None
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401
    listed = console.get(KEYS_PAGE)
    assert "Revoked <bdi>n8n</bdi>" in listed.text and "revoked " in listed.text


def test_another_tenants_key_is_not_found_and_stays_active(console, app, globex_key, client):
    key, headers = globex_key
    page = console.get(KEYS_PAGE)
    assert key.last4 not in page.text
    token = page_token(page)
    for path in (f"{KEYS_PAGE}/{key.id}/revoke", f"{KEYS_PAGE}/no-such-key/revoke"):
        assert console.get(path).status_code == 404
        response = console.post(path, data={"csrf_token": token})
        assert response.status_code == 404
        assert response.content_type.startswith("text/html")
    with app.app_context():
        assert ApiKey.get_by_id(key.id).revoked_at is None
    assert client.get("/api/v1/leads", headers=headers).status_code == 200


def test_the_overview_counts_only_the_operators_tenant(console, client, auth, other_auth,
                                                       app):
    for headers, number in ((auth, 2), (other_auth, 3)):
        for n in range(number):
            conversation = client.post("/api/v1/conversations", headers=headers, json={
                "channel": "whatsapp", "customer_identifier": f"+97150000000{n}"}).get_json()
            assert client.post("/api/v1/leads", headers=headers, json={
                "conversation_id": conversation["id"], "status": "qualified"}
            ).status_code == 201
    page = console.get("/")
    assert page.status_code == 200
    assert '<p class="big" id="count-leads">2</p>' in page.text
    assert '<p class="big" id="count-conversations">2</p>' in page.text
    # The chart: today's bar holds the two qualified leads.
    assert page.text.count('<rect class="bar"') == 1
    assert ": 2 qualified</title>" in page.text
    assert "2 leads in 30 days" in page.text


def test_the_overview_shows_webhook_health(console, client, auth, app, acme_id):
    from vorel_lite.models import WebhookDelivery
    from vorel_lite.webhooks.subscriptions import add_subscription
    with app.app_context():
        add_subscription(ApiKey.get(ApiKey.tenant == acme_id).tenant, "http://127.0.0.1:9/hook")
    client.post("/api/v1/conversations", headers=auth,
                json={"channel": "whatsapp", "customer_identifier": "+971500000001"})
    with app.app_context():
        assert WebhookDelivery.select().count() == 1
        WebhookDelivery.update(status="dead").execute()
    client.post("/api/v1/conversations", headers=auth,
                json={"channel": "voice", "customer_identifier": "+971500000002"})
    page = console.get("/").text
    for status, number in (("delivered", 0), ("pending", 1), ("dead", 1)):
        assert f'<li class="delivery-{status}">{status} <b>{number}</b></li>' in page


def test_signing_out_ends_the_session(console):
    response = console.post("/logout", data={"csrf_token": csrf_token(console, "/")})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert console.get("/").status_code == 302


def test_removing_an_operator_ends_its_sessions(console, runner):
    assert runner.invoke(args=["operators", "remove", ACME]).exit_code == 0
    assert console.get("/").status_code == 302


def test_a_new_password_ends_the_sessions_signed_in_with_the_old(console, app):
    from werkzeug.security import generate_password_hash
    with app.app_context():
        Operator.update(password_hash=generate_password_hash("another password!",
                                                             method="scrypt")).execute()
    assert console.get("/").status_code == 302


class TestSignInLimit:
    @pytest.fixture
    def config(self, config):
        return {**config, "CONSOLE_SIGNIN_RATELIMIT": "3 per minute"}

    def test_failed_sign_ins_are_limited_per_address(self, app, client, acme_id):
        for _ in range(3):
            assert sign_in(client, ACME, password="wrong password").status_code == 200
        response = sign_in(client, ACME)
        assert response.status_code == 429
        assert response.content_type.startswith("text/html")
        assert "3 per 1 minute" in response.text
        other = app.test_client()
        assert sign_in(other, ACME, next_path=None).status_code == 429

    def test_successful_sign_ins_are_not_counted(self, app, client, acme_id):
        for _ in range(5):
            assert sign_in(client, ACME).status_code == 303
            client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_a_password_of_spaces_the_cli_accepts_signs_in(app, client):
    add_operator(app, "spaces@example.com", "acme", password=" " * 12)
    assert sign_in(client, "spaces@example.com", password=" " * 12).status_code == 303


def test_signing_out_ends_a_copy_of_the_session_cookie_too(console, app):
    copy = app.test_client()
    copy.set_cookie("session", console.get_cookie("session").value)
    assert copy.get("/").status_code == 200
    console.post("/logout", data={"csrf_token": csrf_token(console, "/")})
    assert copy.get("/").status_code == 302
    # Signing in again opens a new session.
    assert sign_in(console, ACME).status_code == 303 and console.get("/").status_code == 200
