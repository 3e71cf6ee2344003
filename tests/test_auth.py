"""Bearer keys: shape, hashing, revocation, scopes and last use."""
import hashlib

import pytest

from helpers import assert_error
from vorel_lite import keys
from vorel_lite.keys import SCOPES
from vorel_lite.models import ApiKey, utc_now

ENDPOINTS = [
    ("get", "/api/v1/conversations", "read"),
    ("post", "/api/v1/conversations", "conversations:write"),
    ("get", "/api/v1/conversations/{conversation_id}", "read"),
    ("patch", "/api/v1/conversations/{conversation_id}", "conversations:write"),
    ("get", "/api/v1/leads", "read"),
    ("post", "/api/v1/leads", "leads:write"),
    ("get", "/api/v1/leads/{lead_id}", "read"),
    ("patch", "/api/v1/leads/{lead_id}", "leads:write"),
    ("post", "/api/v1/leads/{lead_id}/handoff", "leads:write"),
    ("post", "/api/v1/conversations/{conversation_id}/send", "conversations:write"),
    ("get", "/api/v1/events", "read"),
]


def url(path, lead):
    return path.format(conversation_id=lead["conversation_id"], lead_id=lead["id"])


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token vapk_live_" + "a" * 48,
    "Bearer vapk_live_" + "a" * 47, "Bearer vapk_live_" + "A" * 48,
    "Bearer vapk_prod_" + "a" * 48, "Bearer " + "vapk_live_" + "a" * 48 + "x",
    "Bearer vapk_live_" + "a" * 48,
])
@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_missing_malformed_and_unknown_keys_are_401(client, lead, table_counts, header,
                                                    method, path, scope):
    before = table_counts()
    headers = {"Authorization": header} if header is not None else {}
    response = getattr(client, method)(url(path, lead), headers=headers, json={"name": "x"})
    assert_error(response, 401, "unauthorized")
    assert table_counts() == before


def test_revoked_key_is_401(client, runner, auth, lead):
    secret = auth["Authorization"].split()[1]
    assert runner.invoke(args=["keys", "revoke", secret]).exit_code == 0
    assert_error(client.get("/api/v1/leads", headers=auth), 401, "unauthorized")


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_a_key_without_the_scope_is_403_naming_it(client, make_key, lead, table_counts,
                                                  method, path, scope):
    headers = make_key("acme", [s for s in SCOPES if s != scope])
    before = table_counts()
    response = getattr(client, method)(url(path, lead), headers=headers, json={"name": "x"})
    assert scope in assert_error(response, 403, "forbidden")["message"]
    assert table_counts() == before


def test_lowercase_scheme_is_accepted(client, auth):
    secret = auth["Authorization"].split()[1]
    assert client.get("/api/v1/leads", headers={"Authorization": f"bearer {secret}"}
                      ).status_code == 200


def test_only_a_hash_of_the_key_is_stored(app, auth):
    secret = auth["Authorization"].split()[1]
    with app.app_context():
        row = ApiKey.get()
        stored = " ".join(str(value) for value in row.__data__.values())
    assert secret not in stored and secret[10:] not in stored
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.display_prefix == secret[:14] and row.last4 == secret[-4:]


def test_last_used_is_recorded_at_most_once_a_minute(app, client, auth, monkeypatch):
    with app.app_context():
        assert ApiKey.get().last_used_at is None
    client.get("/api/v1/leads", headers=auth)
    with app.app_context():
        first = ApiKey.get().last_used_at
    assert first is not None
    client.get("/api/v1/leads", headers=auth)
    with app.app_context():
        assert ApiKey.get().last_used_at == first
    # A minute later (the key's row may still be in the app's key cache): written again.
    monkeypatch.setattr(keys, "utc_now", lambda seconds=0: utc_now(seconds + 61))
    client.get("/api/v1/leads", headers=auth)
    with app.app_context():
        assert ApiKey.get().last_used_at > first


def test_openapi_document_needs_no_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_the_api_is_stateless_no_session_cookie_is_read_or_written(app, client, auth):
    client.set_cookie("session", "forged.value.signature")
    response = client.get("/api/v1/leads", headers=auth)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/api/v1/leads"):
        from flask import session
        assert session.get("anything") is None
        with pytest.raises(RuntimeError):
            session["written"] = True
