"""Idempotency-Key on every POST: a retry gets the first answer again and changes nothing."""
import http.client
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.serving import make_server

from helpers import assert_error
from openapi_helpers import OPENAPI, operations, resolve
from openapi_probes import valid_object
from vorel_lite import idempotency
from vorel_lite.models import Event, IdempotencyKey, Tenant, format_timestamp

CONVERSATIONS = "/api/v1/conversations"
LEADS = "/api/v1/leads"
BODY = {"channel": "whatsapp", "customer_identifier": "+971500000007"}
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def keyed(headers, key):
    return {**headers, HEADER: key}


def key_rows(app):
    """Return every stored Idempotency-Key row, oldest first."""
    with app.app_context():
        return list(IdempotencyKey.select().order_by(IdempotencyKey.created_at))


def age_keys(app, hours):
    """Make every stored key `hours` old."""
    moment = format_timestamp(datetime.now(timezone.utc) - timedelta(hours=hours))
    with app.app_context():
        IdempotencyKey.update(created_at=moment).execute()


def count_events(app, name):
    with app.app_context():
        return Event.select().where(Event.event == name).count()


def valid_body(document, operation):
    """Return a body of an operation's required fields, each with a valid value."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return {}
    schema = resolve(content["application/json"]["schema"], document)
    return valid_object(schema["properties"], schema.get("required", []))


def assert_conflict_naming_the_header(response, words):
    error = assert_error(response, 409, "conflict")
    assert HEADER in error["message"] and words in error["message"], error
    assert REPLAYED not in response.headers


# ---------------------------------------------------------------------------------------------
# Replays
# ---------------------------------------------------------------------------------------------

def test_a_retry_gets_the_stored_answer_and_changes_nothing(app, client, auth, table_counts):
    first = client.post(CONVERSATIONS, headers=keyed(auth, "order-1"), json=BODY)
    assert first.status_code == 201
    assert REPLAYED not in first.headers
    counts = table_counts()
    assert counts == {"Conversation": 1, "Lead": 0, "Event": 1}

    for _ in range(2):
        again = client.post(CONVERSATIONS, headers=keyed(auth, "order-1"), json=BODY)
        assert again.status_code == 201
        assert again.data == first.data
        assert again.content_type == "application/json"
        assert again.headers[REPLAYED] == "true"
        # Answered from a before_request hook: the after_request hooks still add these.
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                       "X-Request-Id"):
            assert header in again.headers, header
    assert int(again.headers["X-RateLimit-Remaining"]) < int(first.headers["X-RateLimit-Remaining"])
    assert table_counts() == counts
    assert count_events(app, "conversation.created") == 1
    [row] = key_rows(app)
    assert (row.idempotency_key, row.status_code) == ("order-1", 201)
    assert json.loads(row.response_body) == first.get_json()


def test_without_the_header_a_post_is_not_remembered(app, client, auth):
    assert client.post(CONVERSATIONS, headers=auth, json=BODY).status_code == 201
    assert_error(client.post(CONVERSATIONS, headers=auth, json=BODY), 409, "conflict")
    assert key_rows(app) == []


def test_a_request_refused_before_it_ran_is_not_remembered(app, client, auth, table_counts):
    # Stripe's rule: a body that fails validation never ran; the corrected retry runs.
    first = client.post(CONVERSATIONS, headers=keyed(auth, "bad-1"), json={"channel": "fax"})
    assert_error(first, 400, "bad_request", field="channel")
    assert key_rows(app) == []
    fixed = client.post(CONVERSATIONS, headers=keyed(auth, "bad-1"), json=BODY)
    assert fixed.status_code == 201 and REPLAYED not in fixed.headers
    assert [row.status_code for row in key_rows(app)] == [201]


@pytest.mark.parametrize("request_options,status", [
    ({"data": '{"channel": "voice"', "content_type": "application/json"}, 400),
    ({"data": "{}", "content_type": "application/json"}, 400),
    ({"data": "channel=voice", "content_type": "application/x-www-form-urlencoded"}, 415),
    ({"data": "{}", "content_type": "application/json",
      "headers": {"Content-Encoding": "gzip"}}, 415),
    ({"data": "x" * (1024 * 1024 + 1), "content_type": "application/json"}, 413),
])
def test_no_refusal_before_running_is_stored(app, client, auth, request_options, status):
    options = dict(request_options)
    headers = {**keyed(auth, "refused"), **options.pop("headers", {})}
    assert client.post(CONVERSATIONS, headers=headers, **options).status_code == status
    assert key_rows(app) == []
    assert client.post(CONVERSATIONS, headers=keyed(auth, "refused"), json=BODY).status_code \
        == 201


def test_a_key_without_the_scope_is_refused_before_any_replay(app, client, auth, make_key):
    first = client.post(CONVERSATIONS, headers=keyed(auth, "scoped"), json=BODY)
    assert first.status_code == 201
    reader = make_key("acme", scopes=("read", "leads:write"))
    refused = client.post(CONVERSATIONS, headers=keyed(reader, "scoped"), json=BODY)
    error = assert_error(refused, 403, "forbidden")
    assert "conversations:write" in error["message"] and REPLAYED not in refused.headers
    assert first.get_json()["id"] not in refused.get_data(as_text=True)
    # Its 403 is not stored either: the right key still gets the first answer.
    again = client.post(CONVERSATIONS, headers=keyed(auth, "scoped"), json=BODY)
    assert (again.status_code, again.data) == (201, first.data)
    assert [row.status_code for row in key_rows(app)] == [201]


def test_what_a_running_request_found_is_its_answer_and_is_replayed(app, client, auth,
                                                                    table_counts):
    missing = {"conversation_id": str(uuid.uuid4())}
    first = client.post(LEADS, headers=keyed(auth, "lost-1"), json=missing)
    assert_error(first, 404, "not_found")
    again = client.post(LEADS, headers=keyed(auth, "lost-1"), json=missing)
    assert (again.status_code, again.data) == (404, first.data)
    assert again.headers[REPLAYED] == "true"
    # Another body with the key is another request: it needs a new key.
    other = client.post(LEADS, headers=keyed(auth, "lost-1"),
                        json={"conversation_id": str(uuid.uuid4())})
    assert_conflict_naming_the_header(other, "different request")
    assert table_counts()["Lead"] == 0
    assert [row.status_code for row in key_rows(app)] == [404]


def test_a_5xx_is_not_stored_so_a_retry_runs_again(app, client, auth, monkeypatch, caplog):
    endpoint = "conversations.create_conversation"
    view, calls = app.view_functions[endpoint], []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return view(*args, **kwargs)
    monkeypatch.setitem(app.view_functions, endpoint, failing_once)
    caplog.set_level(logging.CRITICAL, logger="vorel_lite.errors")

    failed = client.post(CONVERSATIONS, headers=keyed(auth, "k-500"), json=BODY)
    assert_error(failed, 500, "internal_error")
    assert key_rows(app) == []
    retried = client.post(CONVERSATIONS, headers=keyed(auth, "k-500"), json=BODY)
    assert retried.status_code == 201 and REPLAYED not in retried.headers
    replayed = client.post(CONVERSATIONS, headers=keyed(auth, "k-500"), json=BODY)
    assert (replayed.status_code, replayed.data) == (201, retried.data)
    assert len(calls) == 2
    assert count_events(app, "conversation.created") == 1


def test_every_post_operation_replays_its_answer(app, client, auth, lead, runner, receivers):
    """Generic: every POST the document lists, including ones added later."""
    # A CRM that creates records: a failed push is never remembered (spec section 3).
    runner.invoke(args=["crm", "connect", "--tenant", "acme",
                        receivers(default=(201, {"id": "crm-1"})).url])
    document = client.get(OPENAPI).get_json()
    ids = {"lead_id": lead["id"], "conversation_id": lead["conversation_id"]}
    posts = [(path, operation) for path, method, operation in operations(document)
             if method == "post"]
    assert len(posts) >= 2
    for path, operation in posts:
        url = re.sub(r"{([^}]+)}", lambda m: ids[m.group(1)], path)
        headers = keyed(auth, f"generic-{operation['operationId']}")
        body = json.dumps(valid_body(document, operation))
        first = client.post(url, headers=headers, data=body, content_type="application/json")
        assert first.status_code < 500 and REPLAYED not in first.headers, path
        assert first.status_code not in (400, 413, 415), (path, first.get_json())
        again = client.post(url, headers=headers, data=body, content_type="application/json")
        assert (again.status_code, again.data) == (first.status_code, first.data), path
        assert again.headers[REPLAYED] == "true", path
        other = client.post(url, headers=headers, data=body + " ",
                            content_type="application/json")
        assert_conflict_naming_the_header(other, "different request")


# ---------------------------------------------------------------------------------------------
# Conflicts
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,body", [
    (CONVERSATIONS, {**BODY, "customer_identifier": "+971500000008"}),
    (CONVERSATIONS, {**BODY, "customer_name": "Layla"}),
    (LEADS, BODY),
], ids=["another body", "one more field", "another path"])
def test_the_same_key_for_another_request_is_409(app, client, auth, table_counts, path, body):
    first = client.post(CONVERSATIONS, headers=keyed(auth, "k-1"), json=BODY)
    assert first.status_code == 201
    counts = table_counts()
    response = client.post(path, headers=keyed(auth, "k-1"), json=body)
    assert_conflict_naming_the_header(response, "different request")
    assert table_counts() == counts
    assert len(key_rows(app)) == 1


def test_the_same_key_while_the_first_request_runs_is_409(app, client, auth, table_counts):
    raw = json.dumps(BODY)
    with app.test_request_context(CONVERSATIONS, method="POST", data=raw,
                                  content_type="application/json"):
        fingerprint = idempotency.fingerprint_request()
    with app.app_context():
        tenant = Tenant.get(Tenant.slug == "acme")
        IdempotencyKey.create(tenant=tenant, idempotency_key="busy", fingerprint=fingerprint)

    response = client.post(CONVERSATIONS, headers=keyed(auth, "busy"), data=raw,
                           content_type="application/json")
    assert_conflict_naming_the_header(response, "still in progress; retry later")
    assert table_counts()["Conversation"] == 0
    # A different request with the busy key is told the key is taken, not to wait.
    other = client.post(CONVERSATIONS, headers=keyed(auth, "busy"), json={})
    assert_conflict_naming_the_header(other, "different request")
    [row] = key_rows(app)
    assert row.status_code is None


def test_keys_are_per_tenant(app, client, auth, other_auth, table_counts):
    ours = client.post(CONVERSATIONS, headers=keyed(auth, "shared"), json=BODY)
    theirs = client.post(CONVERSATIONS, headers=keyed(other_auth, "shared"), json=BODY)
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert REPLAYED not in theirs.headers
    assert ours.get_json()["id"] != theirs.get_json()["id"]
    assert table_counts()["Conversation"] == 2
    assert len(key_rows(app)) == 2


# ---------------------------------------------------------------------------------------------
# The header's value, and where it is not looked at
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "x" * 256, "tab\there", "bell\x07", "del\x7f", "clé"],
                         ids=["empty", "256 chars", "tab", "control", "DEL", "non-ASCII"])
def test_a_malformed_key_is_400_naming_the_header(app, client, auth, table_counts, value):
    response = client.post(CONVERSATIONS, headers=keyed(auth, value), json=BODY)
    assert_error(response, 400, "bad_request", field=HEADER)
    assert table_counts()["Conversation"] == 0
    assert key_rows(app) == []


@pytest.mark.parametrize("value", ["a", "x" * 255, "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~ x",
                                   str(uuid.uuid4())])
def test_any_1_to_255_printable_ascii_characters_make_a_key(app, client, auth, value):
    first = client.post(CONVERSATIONS, headers=keyed(auth, value), json=BODY)
    again = client.post(CONVERSATIONS, headers=keyed(auth, value), json=BODY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers[REPLAYED] == "true"
    [row] = key_rows(app)
    assert row.idempotency_key == value


def test_get_and_patch_ignore_the_header(app, client, auth, conversation):
    for value in ("k-get", ""):
        for _ in range(2):
            response = client.get(CONVERSATIONS, headers=keyed(auth, value))
            assert response.status_code == 200 and REPLAYED not in response.headers
    url = f"{CONVERSATIONS}/{conversation['id']}"
    for name in ("Amal", "Noor"):
        response = client.patch(url, headers=keyed(auth, "k-patch"), json={"customer_name": name})
        assert response.status_code == 200 and REPLAYED not in response.headers
        assert response.get_json()["customer_name"] == name
    assert key_rows(app) == []


def test_a_401_or_429_never_touches_keys(app, client, auth):
    assert_error(client.post(CONVERSATIONS, headers={HEADER: "k-401"}, json=BODY),
                 401, "unauthorized")
    app.config["RATELIMIT_PER_KEY"] = "1 per minute"
    assert client.post(CONVERSATIONS, headers=keyed(auth, "k-1"), json=BODY).status_code == 201
    limited = client.post(CONVERSATIONS, headers=keyed(auth, "k-429"), json=BODY)
    assert_error(limited, 429, "rate_limited")
    assert [row.idempotency_key for row in key_rows(app)] == ["k-1"]


# ---------------------------------------------------------------------------------------------
# Expiry
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hours,replayed", [(23.9, True), (24.1, False)])
def test_a_key_is_kept_24_hours_then_replaced(app, client, auth, table_counts, hours,
                                              replayed):
    client.post(CONVERSATIONS, headers=keyed(auth, "daily"), json=BODY)
    age_keys(app, hours)
    other = {**BODY, "customer_identifier": "+971500000009"}
    response = client.post(CONVERSATIONS, headers=keyed(auth, "daily"), json=other)
    if replayed:
        assert_conflict_naming_the_header(response, "different request")
        assert table_counts()["Conversation"] == 1
    else:
        assert response.status_code == 201 and REPLAYED not in response.headers
        assert table_counts()["Conversation"] == 2
        [row] = key_rows(app)
        assert json.loads(row.response_body)["customer_identifier"] == "+971500000009"


class TestShorterTtl:
    @pytest.fixture
    def config(self, config):
        return {**config, "IDEMPOTENCY_TTL_HOURS": 1}

    def test_the_ttl_is_a_setting(self, app, client, auth):
        client.post(CONVERSATIONS, headers=keyed(auth, "hourly"), json=BODY)
        age_keys(app, 1.5)
        response = client.post(CONVERSATIONS, headers=keyed(auth, "hourly"), json=BODY)
        # The first request ran again: it now meets the conversation it made itself.
        assert_error(response, 409, "conflict")
        assert REPLAYED not in response.headers
        assert [row.status_code for row in key_rows(app)] == [409]


def test_expired_keys_are_deleted_without_a_cron(app, client, auth, other_auth):
    for index, headers in enumerate((auth, other_auth, auth)):
        client.post(CONVERSATIONS, headers=keyed(headers, f"old-{index}"),
                    json={**BODY, "customer_identifier": f"+97150000010{index}"})
    age_keys(app, 25)
    # A fresh process (app) deletes them on its first claim, whoever's key it is.
    fresh = app.extensions["vorel_idempotency"]
    fresh["next_cleanup"] = float("-inf")
    assert client.post(CONVERSATIONS, headers=keyed(auth, "new"), json=BODY).status_code == 201
    assert [row.idempotency_key for row in key_rows(app)] == ["new"]
    # ... and then at most once a minute, so a busy server does not pay for it per request.
    age_keys(app, 25)
    client.post(CONVERSATIONS, headers=keyed(auth, "newer"),
                json={**BODY, "customer_identifier": "+971500000099"})
    assert {row.idempotency_key for row in key_rows(app)} == {"new", "newer"}


# ---------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------

def test_every_post_documents_the_header_and_no_other_method_does(client):
    document = client.get(OPENAPI).get_json()
    for path, method, operation in operations(document):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        if method != "post":
            assert headers == [], (path, method)
            assert REPLAYED not in success.get("headers", {}), (path, method)
            continue
        [parameter] = headers
        assert parameter["name"] == HEADER and parameter["required"] is False
        schema = parameter["schema"]
        assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, 255)
        assert re.fullmatch(schema["pattern"].replace("$", r"\Z"), "ok key~") is not None
        assert re.search(schema["pattern"].replace("$", r"\Z"), "clé") is None
        assert success["headers"][REPLAYED]["schema"] == {"type": "string", "enum": ["true"]}
        assert {"400", "409"} <= set(operation["responses"]), (path, method)


# ---------------------------------------------------------------------------------------------
# Sixteen retries at once, through a real threaded server
# ---------------------------------------------------------------------------------------------

CLIENTS = 16
TIMEOUT = 30


@pytest.fixture
def server(app):
    """The app served by a threaded werkzeug server on a free loopback port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def post_together(port, path, headers, body, count):
    """Send count identical POSTs released together; return [(status, headers, body)]."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    results = [None] * count

    def send(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            connection.connect()
            barrier.wait()
            connection.request("POST", path, body=json.dumps(body),
                               headers={**headers, "Content-Type": "application/json"})
            response = connection.getresponse()
            results[index] = (response.status, dict(response.getheaders()), response.read())
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    failed = [r for r in results if not isinstance(r, tuple)]
    assert not failed, f"{len(failed)} clients failed: {failed[:3]!r}"
    return results


@pytest.mark.parametrize("slow", [False, True], ids=["as fast as it goes", "a slow view"])
def test_sixteen_simultaneous_retries_make_one_conversation(app, server, auth, monkeypatch,
                                                            slow):
    if slow:
        # The first request is still running when the others arrive: they must wait (409).
        endpoint = "conversations.create_conversation"
        view = app.view_functions[endpoint]
        monkeypatch.setitem(app.view_functions, endpoint,
                            lambda: time.sleep(0.5) or view())
    results = post_together(server, CONVERSATIONS, keyed(auth, "burst"), BODY, CLIENTS)

    statuses = Counter((status, REPLAYED in headers) for status, headers, _ in results)
    assert all(status < 500 for status, _, _ in results), results[:3]
    assert statuses[(201, False)] == 1, statuses
    assert set(statuses) <= {(201, False), (201, True), (409, False)}, statuses
    created = next(body for status, headers, body in results
                   if status == 201 and REPLAYED not in headers)
    for status, headers, body in results:
        assert headers["Content-Type"] == "application/json"
        if status == 201:
            assert body == created
        else:
            message = json.loads(body)["error"]["message"]
            assert HEADER in message and "still in progress" in message, message
    if slow:
        assert statuses[(409, False)] >= 1, statuses
    with app.app_context():
        assert Event.select().where(Event.event == "conversation.created").count() == 1
    [row] = key_rows(app)
    assert (row.status_code, row.response_body.encode()) == (201, created)
    assert app.test_client().get(CONVERSATIONS, headers=auth).get_json()["data"] == [
        json.loads(created)]


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(app, client, auth):
    from vorel_lite.models import IdempotencyKey, Tenant
    body = {"channel": "voice", "customer_identifier": "+15550009999"}
    headers = {**auth, "Idempotency-Key": "died-mid-request"}
    with app.app_context():
        IdempotencyKey.create(tenant=Tenant.get().id, idempotency_key="died-mid-request",
                              fingerprint="whatever", created_at="2000-01-01T00:00:00.000000Z")
    first = client.post("/api/v1/conversations", headers=headers, json=body)
    assert first.status_code == 201
    again = client.post("/api/v1/conversations", headers=headers, json=body)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()


def test_a_recent_unanswered_claim_is_not_taken_over(app, client, auth):
    from vorel_lite.models import IdempotencyKey, Tenant
    with app.app_context():
        IdempotencyKey.create(tenant=Tenant.get().id, idempotency_key="busy",
                              fingerprint="whatever")
    response = client.post("/api/v1/conversations", headers={**auth, "Idempotency-Key": "busy"},
                           json={"channel": "voice", "customer_identifier": "+1"})
    assert response.status_code == 409
    with app.app_context():
        assert IdempotencyKey.get(IdempotencyKey.idempotency_key == "busy").fingerprint == \
            "whatever"
