"""POST /api/v1/crm/create-record against a real loopback CRM endpoint."""
import hashlib
import hmac
import json
import re
import threading
import time

import pytest

from helpers import assert_error
from receiver import HANG, NOT_HTTP, TRICKLE, Receiver
from vorel_lite.models import CrmConnection, CrmPush, CrmRecord, Tenant, utc_now

URL = "/api/v1/crm/create-record"
SECRET_SHAPE = re.compile(r"whsec_[0-9a-f]{48}")


def crm_endpoint(**options):
    """A CRM endpoint on loopback: by default it creates the record crm-1."""
    return Receiver(**{"default": (201, {"id": "crm-1"}), "path": "/records", **options})


@pytest.fixture
def endpoint():
    server = crm_endpoint()
    yield server
    server.close()


@pytest.fixture
def connect(runner, auth):
    """Connect tenant acme's CRM to a URL; return the printed secret."""
    def connect_to(url, *maps):
        args = ["crm", "connect", "--tenant", "acme", url]
        for pair in maps:
            args += ["--map", pair]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        return result.stdout.strip()
    return connect_to


def push(client, auth, key="order-1", fields=None, obj="contact"):
    response = client.post(URL, headers=auth, json={
        "object": obj, "fields": {"email": "layla@example.com"} if fields is None else fields,
        "idempotency_key": key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def signed_by(secret, request):
    expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request["headers"]["X-Webhook-Signature"])


def test_without_a_connection_the_answer_is_not_configured(client, auth, app):
    answer = push(client, auth)
    assert answer["ok"] is False and answer["error"]["code"] == "not_configured"
    assert "flask crm connect" in answer["error"]["message"]
    with app.app_context():
        assert CrmPush.select().count() == 0 and CrmRecord.select().count() == 0


def test_a_push_is_signed_mapped_and_answered(client, auth, endpoint, connect, app):
    secret = connect(endpoint.url, "email=Email", "name=FullName")
    assert SECRET_SHAPE.fullmatch(secret)
    endpoint.default = (201, {"id": "crm-77", "url": "https://crm.example/r/77"})
    answer = push(client, auth, fields={"email": "layla@example.com", "name": "Layla",
                                        "budget": 900000, "tags": ["vip"], "note": None})
    assert answer == {"ok": True, "external_id": "crm-77",
                      "record_url": "https://crm.example/r/77"}
    [request] = endpoint.requests()
    with app.app_context():
        tenant_id = CrmPush.get().tenant_id
    assert json.loads(request["body"]) == {
        "object": "contact", "idempotency_key": "order-1", "tenant_id": tenant_id,
        "fields": {"Email": "layla@example.com", "FullName": "Layla", "budget": 900000,
                   "tags": ["vip"], "note": None}}
    assert signed_by(secret, request)
    assert request["headers"]["Idempotency-Key"] == "order-1"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("vorel-lite/")
    assert secret not in json.dumps(answer)


@pytest.mark.parametrize("crm_id,external_id", [
    (42, "42"), ("abc", "abc"), (4.5, "4.5"), (10**20, "100000000000000000000")])
def test_the_crm_id_is_returned_as_text(client, auth, endpoint, connect, crm_id, external_id):
    connect(endpoint.url)
    endpoint.default = (200, {"id": crm_id})
    assert push(client, auth) == {"ok": True, "external_id": external_id}


def test_a_success_is_remembered_and_never_pushed_twice(client, auth, endpoint, connect):
    connect(endpoint.url)
    first = push(client, auth)
    assert push(client, auth) == first
    # The same key with another body still answers the remembered record.
    assert push(client, auth, fields={"email": "other@example.com"}, obj="deal") == first
    assert len(endpoint.requests()) == 1
    assert push(client, auth, key="order-2")["ok"] is True
    assert len(endpoint.requests()) == 2


def test_a_failure_is_not_remembered_so_a_retry_pushes_again(client, auth, endpoint,
                                                             connect, runner):
    connect(endpoint.url)
    endpoint.script = [(503, {"error": "maintenance"}), (500, b"boom")]
    first = push(client, auth)
    assert first["error"]["code"] == "crm_unavailable" and "503" in first["error"]["message"]
    assert push(client, auth)["error"]["code"] == "crm_unavailable"
    recovered = push(client, auth)
    assert recovered == {"ok": True, "external_id": "crm-1"}
    assert push(client, auth) == recovered
    assert len(endpoint.requests()) == 3
    log = runner.invoke(args=["crm", "log", "--tenant", "acme"]).stdout.splitlines()
    assert [line.split()[3] for line in log] == ["ok", "crm_unavailable", "crm_unavailable"]
    assert [line.split()[4] for line in log] == ["201", "500", "503"]
    assert all(line.split()[1:3] == ["contact", "order-1"] for line in log)


@pytest.mark.parametrize("answer,code,says", [
    ((400, {"error": "bad email"}), "crm_rejected", "bad email"),
    ((404, b"no such list"), "crm_rejected", "HTTP 404"),
    ((422, {"email": ["invalid"]}), "crm_rejected", "invalid"),
    ((408, b""), "crm_unavailable", "HTTP 408"),
    ((429, b"slow down"), "crm_unavailable", "slow down"),
    ((500, b""), "crm_unavailable", "HTTP 500"),
    ((502, b"<html>bad gateway</html>"), "crm_unavailable", "HTTP 502"),
    ((302, b""), "crm_bad_answer", "redirect"),
    ((301, b""), "crm_bad_answer", "redirect"),
    ((200, b"not json"), "crm_bad_answer", "not json"),
    ((200, b""), "crm_bad_answer", "without a JSON object"),
    ((201, [{"id": 1}]), "crm_bad_answer", "without a JSON object"),
    ((201, {"record": "x"}), "crm_bad_answer", "id"),
    ((201, {"id": None}), "crm_bad_answer", "id"),
    ((201, {"id": True}), "crm_bad_answer", "id"),
    ((201, {"id": ""}), "crm_bad_answer", "id"),
    ((201, {"id": {"n": 1}}), "crm_bad_answer", "id"),
    ((201, b'{"id": NaN}'), "crm_bad_answer", "id"),
    ((201, b'{"id": 1e999}'), "crm_bad_answer", "id"),
    ((204, b""), "crm_bad_answer", "HTTP 204"),
    (NOT_HTTP, "crm_bad_answer", "not HTTP"),
])
def test_every_unusable_answer_is_classified(client, auth, endpoint, connect, app, answer,
                                             code, says):
    connect(endpoint.url)
    endpoint.script = [answer]
    result = push(client, auth)
    assert result["ok"] is False and result["error"]["code"] == code, result
    assert says in result["error"]["message"]
    assert len(endpoint.requests()) == 1
    with app.app_context():
        logged = CrmPush.get()
        assert logged.outcome == code and logged.error == result["error"]["message"]
        assert CrmRecord.get().state == "failed"


def test_a_redirect_is_not_followed(client, auth, endpoint, connect):
    target = crm_endpoint()
    try:
        connect(endpoint.url)
        endpoint.script = [(307, b"")]
        assert push(client, auth)["error"]["code"] == "crm_bad_answer"
        assert target.requests() == []
    finally:
        target.close()


def test_a_refused_connection_is_unavailable(client, auth, connect):
    closed = crm_endpoint()
    url = closed.url
    closed.close()
    connect(url)
    result = push(client, auth)
    assert result["error"]["code"] == "crm_unavailable"
    assert "could not be reached" in result["error"]["message"]


def test_an_answer_too_large_is_a_bad_answer(client, auth, endpoint, connect):
    connect(endpoint.url)
    endpoint.script = [(201, b'{"id": "x", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}')]
    result = push(client, auth)
    assert result["error"]["code"] == "crm_bad_answer" and "larger" in result["error"]["message"]


@pytest.fixture
def config(config):
    return {**config, "CRM_TIMEOUT_SECONDS": 2}


def test_a_trickling_endpoint_is_cut_off_at_the_deadline(client, auth, connect):
    # About 90 bytes at 0.25 s each: 20 s and more to answer in full, each read well within
    # any per-read timeout. The deadline (2 s here) is for the whole push.
    endpoint = crm_endpoint(script=[TRICKLE], trickle_seconds=0.25)
    try:
        connect(endpoint.url)
        started = time.monotonic()
        result = push(client, auth)
        elapsed = time.monotonic() - started
    finally:
        endpoint.close()
    assert result["error"]["code"] == "crm_unavailable"
    assert "deadline of 2 s" in result["error"]["message"]
    assert elapsed < 12, elapsed


def test_an_endpoint_that_never_answers_is_cut_off_too(client, auth, connect):
    endpoint = crm_endpoint(default=HANG)
    try:
        connect(endpoint.url)
        started = time.monotonic()
        result = push(client, auth)
        assert time.monotonic() - started < 12
    finally:
        endpoint.close()
    assert result["error"]["code"] == "crm_unavailable"
    assert "deadline" in result["error"]["message"]


def concurrently(app, auth, count, key="order-1"):
    """Send count pushes with one key at once; return their answers."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def send(index):
        client = app.test_client()
        barrier.wait()
        answers[index] = client.post(URL, headers=auth, json={
            "object": "lead", "fields": {"n": index % 2}, "idempotency_key": key})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_eight_concurrent_pushes_with_one_key_push_once(app, auth, endpoint, connect):
    connect(endpoint.url)
    endpoint.delay = 0.5
    answers = concurrently(app, auth, 8)
    assert [a.status_code for a in answers] == [200] * 8
    assert {json.dumps(a.get_json(), sort_keys=True) for a in answers} == {
        json.dumps({"ok": True, "external_id": "crm-1"}, sort_keys=True)}
    assert len(endpoint.requests()) == 1


def test_concurrent_pushes_share_a_failure_and_a_later_retry_pushes(app, client, auth,
                                                                    endpoint, connect):
    connect(endpoint.url)
    endpoint.delay = 0.5
    endpoint.script = [(503, b"down")]
    answers = concurrently(app, auth, 8)
    assert {a.get_json()["error"]["code"] for a in answers} == {"crm_unavailable"}
    assert len(endpoint.requests()) == 1
    endpoint.delay = 0
    assert push(client, auth)["ok"] is True
    assert len(endpoint.requests()) == 2


def test_a_claim_left_by_a_dead_pusher_is_taken_over(app, client, auth, endpoint, connect):
    connect(endpoint.url)
    with app.app_context():
        tenant_id = Tenant.get(slug="acme").id
        CrmRecord.create(tenant=tenant_id, idempotency_key="order-1", state="pushing",
                         claimed_until="2020-01-01T00:00:00.000000Z")
    assert push(client, auth)["ok"] is True
    assert len(endpoint.requests()) == 1


def test_a_waiting_request_answers_the_running_push(app, client, auth, endpoint, connect):
    connect(endpoint.url)
    with app.app_context():
        tenant_id = Tenant.get(slug="acme").id
        record = CrmRecord.create(tenant=tenant_id, idempotency_key="order-1",
                                  state="pushing", claimed_until="9999-01-01T00:00:00.000000Z")

    def finish():
        time.sleep(0.3)
        with app.app_context():
            (CrmRecord.update(state="succeeded", result={"ok": True, "external_id": "other"})
             .where(CrmRecord.id == record.id).execute())

    threading.Thread(target=finish).start()
    assert push(client, auth) == {"ok": True, "external_id": "other"}
    assert endpoint.requests() == []


def test_keys_are_per_tenant(client, auth, other_auth, endpoint, connect):
    connect(endpoint.url)
    assert push(client, auth)["ok"] is True
    assert push(client, other_auth)["error"]["code"] == "not_configured"


@pytest.mark.parametrize("body,field", [
    ({"fields": {}, "idempotency_key": "k"}, "object"),
    ({"object": "person", "fields": {}, "idempotency_key": "k"}, "object"),
    ({"object": None, "fields": {}, "idempotency_key": "k"}, "object"),
    ({"object": "contact", "idempotency_key": "k"}, "fields"),
    ({"object": "contact", "fields": [1], "idempotency_key": "k"}, "fields"),
    ({"object": "contact", "fields": None, "idempotency_key": "k"}, "fields"),
    ({"object": "contact", "fields": "x", "idempotency_key": "k"}, "fields"),
    ({"object": "contact", "fields": {}}, "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": ""}, "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": "k" * 201}, "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": 5}, "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": "a\r\nX-Evil: 1"},
     "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": "tab\there"}, "idempotency_key"),
    ({"object": "contact", "fields": {}, "idempotency_key": "k", "extra": 1}, "extra"),
])
def test_bad_bodies_are_400_naming_the_field_and_push_nothing(client, auth, endpoint, connect,
                                                              app, body, field):
    connect(endpoint.url)
    assert_error(client.post(URL, headers=auth, json=body), 400, "bad_request", field)
    assert endpoint.requests() == []
    with app.app_context():
        assert CrmRecord.select().count() == 0


def test_keys_of_200_characters_and_any_script_are_fine(client, auth, endpoint, connect):
    connect(endpoint.url)
    assert push(client, auth, key="k" * 200)["ok"] is True
    assert push(client, auth, key="طلب-١")["ok"] is True
    assert json.loads(endpoint.requests()[1]["body"])["idempotency_key"] == "طلب-١"


def test_two_fields_mapped_onto_one_crm_field_are_a_400(client, auth, endpoint, connect):
    connect(endpoint.url, "email=Email")
    response = client.post(URL, headers=auth, json={
        "object": "contact", "fields": {"email": "a@example.com", "Email": "b@example.com"},
        "idempotency_key": "k"})
    assert_error(response, 400, "bad_request", "fields")
    assert endpoint.requests() == []


def test_scope_and_key_are_required(client, make_key):
    body = {"object": "contact", "fields": {}, "idempotency_key": "k"}
    assert_error(client.post(URL, json=body), 401, "unauthorized")
    no_crm = make_key("acme", scopes=("read", "leads:write"))
    error = assert_error(client.post(URL, headers=no_crm, json=body), 403, "forbidden")
    assert "crm:write" in error["message"]


def test_a_password_in_the_url_is_never_shown(client, auth, endpoint, connect, runner):
    connect(endpoint.url.replace("http://", "http://user:hunter22@"))
    endpoint.script = [(401, b"who are you")]
    result = push(client, auth)
    assert result["error"]["code"] == "crm_rejected"
    assert "hunter22" not in json.dumps(result)
    shown = runner.invoke(args=["crm", "show", "--tenant", "acme"]).output
    assert "hunter22" not in shown and "user:***@" in shown


def test_waiting_stops_when_the_claim_expires(app, client, auth, endpoint, connect):
    connect(endpoint.url)
    with app.app_context():
        tenant_id = Tenant.get(slug="acme").id
        CrmRecord.create(tenant=tenant_id, idempotency_key="order-1", state="pushing",
                         claimed_until=utc_now())
    assert push(client, auth)["ok"] is True


# --- the operator's commands -------------------------------------------------------------------

def crm_command(runner, *args):
    return runner.invoke(args=["crm", *args])


def test_connecting_again_replaces_the_url_maps_and_secret(client, auth, endpoint, connect,
                                                           runner):
    first = connect("https://old.example/records", "email=Email")
    second = connect(endpoint.url, "name=Name")
    assert first != second and SECRET_SHAPE.fullmatch(second)
    assert push(client, auth, fields={"email": "e", "name": "n"})["ok"] is True
    [request] = endpoint.requests()
    assert json.loads(request["body"])["fields"] == {"email": "e", "Name": "n"}
    assert signed_by(second, request) and not signed_by(first, request)
    shown = crm_command(runner, "show", "--tenant", "acme").output
    assert endpoint.url in shown and "maps: name=Name" in shown
    assert second[:10] + "…" in shown and second not in shown
    assert "pushes: ok=1 failed=0 remembered=1" in shown


def test_connect_sends_nothing_and_prints_the_secret_alone_on_stdout(runner, auth, endpoint):
    result = crm_command(runner, "connect", "--tenant", "acme", endpoint.url)
    assert result.exit_code == 0
    assert SECRET_SHAPE.fullmatch(result.stdout.strip())
    assert "not shown again" in result.stderr
    assert endpoint.requests() == []


@pytest.mark.parametrize("args,complaint", [
    (["--tenant", "nobody", "https://crm.example/"], "nobody"),
    (["--tenant", "acme", "ftp://crm.example/"], "http(s) URL"),
    (["--tenant", "acme", "crm.example/records"], "http(s) URL"),
    (["--tenant", "acme", "https://crm.example/\r\nX-Injected: 1"], "control character"),
    (["--tenant", "acme", "https://crm.example/", "--map", "email"], "VOREL_KEY=CRM_KEY"),
    (["--tenant", "acme", "https://crm.example/", "--map", "=Email"], "VOREL_KEY=CRM_KEY"),
    (["--tenant", "acme", "https://crm.example/", "--map", "email="], "VOREL_KEY=CRM_KEY"),
    (["--tenant", "acme", "https://crm.example/", "--map", "a=X", "--map", "a=Y"],
     "mapped twice"),
    (["--tenant", "acme", "https://crm.example/", "--map", "a=X", "--map", "b=X"],
     "several keys map to 'X'"),
])
def test_connect_refuses_bad_input_clearly(runner, auth, app, args, complaint):
    result = crm_command(runner, "connect", *args)
    assert result.exit_code != 0 and complaint in result.output
    assert "whsec_" not in result.output
    with app.app_context():
        assert CrmConnection.select().count() == 0


def test_show_disconnect_and_log_without_a_connection(runner, auth, client):
    assert "no CRM connected" in crm_command(runner, "show", "--tenant", "acme").output
    assert crm_command(runner, "disconnect", "--tenant", "acme").exit_code != 0
    assert crm_command(runner, "log", "--tenant", "acme").output == ""
    assert "nobody" in crm_command(runner, "log", "--tenant", "nobody").output


def test_disconnect_makes_pushes_not_configured(client, auth, endpoint, connect, runner):
    connect(endpoint.url)
    result = crm_command(runner, "disconnect", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert push(client, auth)["error"]["code"] == "not_configured"
    assert endpoint.requests() == []


def test_the_log_lists_the_newest_pushes_first_with_a_limit(client, auth, endpoint, connect,
                                                            runner):
    connect(endpoint.url)
    endpoint.script = [(422, b"missing email")]
    push(client, auth, key="first")
    push(client, auth, key="second", obj="deal")
    lines = crm_command(runner, "log", "--tenant", "acme").stdout.splitlines()
    assert [line.split()[1:5] for line in lines] == [["deal", "second", "ok", "201"],
                                                     ["contact", "first", "crm_rejected", "422"]]
    assert "missing email" in lines[1] and re.search(r"\d+ms", lines[0])
    limited = crm_command(runner, "log", "--tenant", "acme", "--limit", "1").stdout
    assert len(limited.splitlines()) == 1


def test_a_failed_push_is_not_pinned_by_an_idempotency_key_header(
        client, auth, endpoint, connect):
    connect(endpoint.url)
    endpoint.script = [(503, b"down")]
    headers = {**auth, "Idempotency-Key": "retry-1"}
    body = {"object": "lead", "fields": {}, "idempotency_key": "crm-retry-1"}
    first = client.post(URL, headers=headers, json=body)
    assert first.get_json()["error"]["code"] == "crm_unavailable"
    again = client.post(URL, headers=headers, json=body)
    assert "Idempotent-Replayed" not in again.headers
    assert again.get_json() == {"ok": True, "external_id": "crm-1"}
    replayed = client.post(URL, headers=headers, json=body)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert len(endpoint.requests()) == 2


def test_a_remembered_success_is_answered_even_after_disconnect(client, auth, endpoint,
                                                                connect, runner):
    connect(endpoint.url)
    first = push(client, auth)
    assert runner.invoke(args=["crm", "disconnect", "--tenant", "acme"]).exit_code == 0
    assert push(client, auth) == first
    assert push(client, auth, key="new-one")["error"]["code"] == "not_configured"


def test_a_tenant_has_at_most_two_pushes_in_flight_per_process(app, auth, connect):
    hanging = crm_endpoint(default=HANG)
    try:
        connect(hanging.url)
        answers = [None] * 3

        def send(index):
            answers[index] = app.test_client().post(URL, headers=auth, json={
                "object": "lead", "fields": {}, "idempotency_key": f"slot-{index}"})

        threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        hanging.close()
    codes = sorted(a.get_json()["error"]["code"] for a in answers)
    assert codes == ["crm_unavailable"] * 3
    messages = [a.get_json()["error"]["message"] for a in answers]
    assert sum("in flight" in m for m in messages) == 1
    assert sum("deadline" in m for m in messages) == 2
    assert len(hanging.requests()) == 2
