"""Every error, from every layer, is the envelope; request ids and the request log."""
import logging

import pytest

from helpers import assert_error

BODY_ENDPOINTS = [("post", "/api/v1/conversations"), ("post", "/api/v1/leads"),
                  ("patch", "/api/v1/conversations/{conversation_id}"),
                  ("patch", "/api/v1/leads/{lead_id}"),
                  ("post", "/api/v1/leads/{lead_id}/handoff"),
                  ("post", "/api/v1/conversations/{conversation_id}/send")]


@pytest.fixture
def body_url(lead):
    return lambda path: path.format(conversation_id=lead["conversation_id"], lead_id=lead["id"])


def test_unknown_route_is_404_envelope(client, auth):
    for path in ("/", "/api/v1/nope", "/api/v1/leads/", "/api/v2/leads"):
        assert_error(client.get(path, headers=auth), 404, "not_found")


def test_wrong_method_is_405_envelope_keeping_allow(client, auth):
    response = client.delete("/api/v1/leads", headers=auth)
    assert_error(response, 405, "bad_request")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


BAD_BODIES = [
    ("{", "application/json", 400), ("", "application/json", 400),
    ("[]", "application/json", 400), ('[{"name": "x"}]', "application/json", 400),
    ('"text"', "application/json", 400), ("null", "application/json", 400),
    ("42", "application/json", 400), ("true", "application/json", 400),
    ('{"name": NaN}', "application/json", 400), ('{"name": 1e999}', "application/json", 400),
    ('{"name": "a\\u0000b"}', "application/json", 400),
    ('{"name": "\\ud800"}', "application/json", 400),
    ('{"attributes": {"n": ' + "9" * 5000 + "}}", "application/json", 400),
    ('{"attributes": ' + "[" * 100 + "]" * 100 + "}", "application/json", 400),
    ('{"attributes": ' + "[" * 100000 + "]" * 100000 + "}", "application/json", 400),
    (b'{"name": "\xff\xfe"}', "application/json", 400),
    ('{"name": "a", "name": "b"}', "application/json", 400),
    ('{"name": "x"}', "text/plain", 415), ('{"name": "x"}', None, 415),
    ("name=x", "application/x-www-form-urlencoded", 415),
    ('{"name": "' + "x" * (1024 * 1024) + '"}', "application/json", 413),
]


@pytest.mark.parametrize("data,content_type,status", BAD_BODIES)
@pytest.mark.parametrize("method,path", BODY_ENDPOINTS)
def test_unreadable_bodies_are_refused_and_write_nothing(client, auth, body_url, table_counts,
                                                         lead, method, path, data,
                                                         content_type, status):
    before = table_counts()
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = getattr(client, method)(body_url(path), headers=headers, data=data)
    assert_error(response, status, "bad_request")
    assert table_counts() == before
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=auth).get_json() == lead


def test_json_with_charset_is_accepted(client, auth):
    response = client.post("/api/v1/conversations", data='{"channel": "voice", '
                           '"customer_identifier": "+1"}',
                           headers={**auth, "Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201


@pytest.fixture
def failing_app(app):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("SELECT secret FROM api_keys -- internal detail")
    return app


def test_unexpected_errors_are_500_without_internals(failing_app, auth, caplog):
    response = failing_app.test_client().get("/api/v1/boom", headers=auth)
    error = assert_error(response, 500, "internal_error")
    assert "SELECT" not in response.get_data(as_text=True)
    assert response.headers["X-Request-Id"] in error["message"]
    assert any(response.headers["X-Request-Id"] in r.getMessage() and r.exc_info
               for r in caplog.records)


def test_request_id_is_echoed_when_sane_and_made_otherwise(client, auth):
    assert client.get("/api/v1/leads", headers={**auth, "X-Request-Id": "abc-123"}
                      ).headers["X-Request-Id"] == "abc-123"
    for offered in ("", "x" * 129, "bad id", "<script>"):
        made = client.get("/api/v1/leads", headers={**auth, "X-Request-Id": offered}
                          ).headers["X-Request-Id"]
        assert made != offered and len(made) == 32
    assert "X-Request-Id" in client.get("/nope").headers


def test_one_log_line_per_request_without_key_or_body(client, auth, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    secret = auth["Authorization"].split()[1]
    client.post("/api/v1/conversations", headers=auth,
                json={"channel": "voice", "customer_identifier": "+15550001234"})
    lines = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("POST /api/v1/conversations 201 ")
    assert "ms tenant=" in line and f"key={secret[:14]} " in line
    assert secret not in caplog.text and "+15550001234" not in caplog.text


def test_repeated_query_parameters_are_400(client, auth):
    assert_error(client.get("/api/v1/leads?limit=1&limit=500", headers=auth),
                 400, "bad_request", "limit")


def test_options_needs_no_key_and_lists_the_methods(client):
    response = client.options("/api/v1/leads")
    assert response.status_code == 200
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))


def test_client_text_cannot_forge_log_lines(client, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    client.get("/api/v1/nope%0aINFO forged 201%00")
    lines = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    assert len(lines) == 1 and "\n" not in lines[0] and "\x00" not in lines[0]
    assert "\\nINFO forged" in lines[0]
