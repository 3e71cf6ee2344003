"""Every error, from every layer, is the envelope; request ids and the request log."""
import json
import logging
import re

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
    # "/" is the console's overview (tests/test_console.py).
    for path in ("/nope", "/api/v1/nope", "/api/v1/leads/", "/api/v2/leads"):
        assert_error(client.get(path, headers=auth), 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1//leads"), ("get", "/api/v1/leads//"), ("post", "/api/v1//conversations"),
    ("get", "/api/v1/conversations//x"), ("post", "/api/v1/leads//handoff"),
    ("get", "/api//v1/leads"), ("get", "/api/v1/analytics//weekly-rollup"),
])
def test_a_doubled_slash_is_a_404_envelope_not_a_redirect(client, auth, method, path):
    response = getattr(client, method)(path, headers=auth)
    assert_error(response, 404, "not_found")
    assert "Location" not in response.headers


@pytest.mark.parametrize("path,allowed", [
    ("/api/v1/leads", {"GET", "POST"}), ("/api/v1/leads/x", {"GET", "PATCH"}),
    ("/api/v1/leads/x/handoff", {"POST"}), ("/api/v1/openapi.json", {"GET"}),
    ("/api/v1/crm/create-record", {"POST"}),
])
def test_options_is_204_with_allow_and_no_body(client, path, allowed):
    response = client.options(path)
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
    assert set(response.headers["Allow"].split(", ")) >= allowed | {"OPTIONS"}


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


# An empty body is no body where the body is optional (the handoff's: test_handoff.py).
@pytest.mark.parametrize("method,path,data,content_type,status", [
    (method, path, *bad) for method, path in BODY_ENDPOINTS for bad in BAD_BODIES
    if not (bad[0] == "" and path.endswith("/handoff"))])
def test_unreadable_bodies_are_refused_and_write_nothing(client, auth, body_url, table_counts,
                                                         lead, method, path, data,
                                                         content_type, status):
    before = table_counts()
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = getattr(client, method)(body_url(path), headers=headers, data=data)
    assert_error(response, status, "bad_request")
    assert table_counts() == before
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=auth).get_json() == lead


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate", "x-gzip", "GZIP", "identity, gzip"])
@pytest.mark.parametrize("method,path", BODY_ENDPOINTS)
def test_a_content_coding_is_never_ignored(client, auth, body_url, table_counts, lead, method,
                                           path, coding):
    before = table_counts()
    plain = '{"name": "x", "reason": "r", "text": "t"}'
    headers = {**auth, "Content-Type": "application/json", "Content-Encoding": coding}
    response = getattr(client, method)(body_url(path), headers=headers, data=plain)
    assert "Content-Encoding" in assert_error(response, 415, "bad_request")["message"]
    assert table_counts() == before


def test_a_gzip_body_is_415_not_a_utf8_complaint(client, auth):
    import gzip
    body = gzip.compress(b'{"channel": "voice", "customer_identifier": "+1"}')
    response = client.post("/api/v1/conversations", data=body, headers={
        **auth, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert "Content-Encoding" in assert_error(response, 415, "bad_request")["message"]


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


def test_client_text_cannot_forge_log_lines(client, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    client.get("/api/v1/nope%0aINFO forged 201%00")
    lines = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    assert len(lines) == 1 and "\n" not in lines[0] and "\x00" not in lines[0]
    assert "%0AINFO%20forged%20201%00" in lines[0]


def test_encoded_spaces_cannot_add_fields_to_the_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="vorel_lite")
    client.get("/api/v1/x%20200%201.0ms%20tenant=forged%20key=vapk_x%20request_id=1")
    [line] = [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]
    fields = line.split(" ")
    assert fields[1] == "/api/v1/x%20200%201.0ms%20tenant=forged%20key=vapk_x%20request_id=1"
    assert fields[2] == "404" and sum(f.startswith("tenant=") for f in fields) == 1


@pytest.mark.parametrize("offered,kept", [
    ("abc-123_x.y", True), ("a" * 128, True), ("a" * 129, False), ("a b", False),
    ("id\tforged", False), ("x:y", False), ("", False), ("ü", False),
])
def test_a_client_request_id_is_used_only_if_it_looks_like_an_id(client, offered, kept):
    response = client.get("/api/v1/openapi.json", headers={"X-Request-Id": offered})
    assert (response.headers["X-Request-Id"] == offered) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", response.headers["X-Request-Id"])


@pytest.mark.parametrize("body,path", [
    ({"name": "a\x00b"}, "name"),
    ({"attributes": {"note": "x\x00"}}, "attributes.note"),
    ({"attributes": {"tags": ["ok", "\x00"]}}, "attributes.tags.1"),
    ({"attributes": {"deep": {"er": "\x00"}}}, "attributes.deep.er"),
    ({"attributes": {"key\x00": "v"}}, "attributes"),
    ({"name": "\ud800"}, "name"),
    ({"attributes": {"note": "\udfff"}}, "attributes.note"),
])
def test_unstorable_text_is_a_400_naming_where_it_is(client, auth, lead, table_counts, body,
                                                     path):
    before = table_counts()
    raw = json.dumps(body)  # \u0000 and \ud800 escapes, as a client sends them
    response = client.patch(f"/api/v1/leads/{lead['id']}", headers=auth, data=raw,
                            content_type="application/json")
    assert_error(response, 400, "bad_request", path)
    assert table_counts() == before


def test_errors_quote_at_most_100_characters_of_client_text(client, auth, app):
    from vorel_lite.models import IdempotencyKey
    huge = "x" * 400_000
    for raw in (json.dumps({huge: 1}), '{"a": 1, "%s": 1, "%s": 2}' % (huge, huge),
                json.dumps({"attributes": {huge: "\x00"}}), '{"name": 1%s}' % ("0" * 5000),
                '{"name": 1e9%s}' % ("9" * 5000)):
        response = client.post("/api/v1/conversations", data=raw, content_type="application/json",
                               headers={**auth, "Idempotency-Key": "big"})
        error = assert_error(response, 400, "bad_request")
        assert len(response.data) < 1500, response.data[:300]
        assert all(len(name) <= 100 for name in error.get("fields", {}))
    with app.app_context():
        assert IdempotencyKey.select().count() == 0
