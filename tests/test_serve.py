"""`flask serve` under abuse: oversized bodies refused unread, slow clients starve nobody."""
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from processes import connect, send_json, start_flask_serve, terminate_group
from receiver import HANG, Receiver
from test_body import padded
from test_multiprocess import Gunicorn, provision
from vorel_lite.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 250
# The body limit of the in-process server's app: small, so refusals need little sending.
BODY_LIMIT = 4096
# waitress' default max_request_header_size, which make_server keeps.
HEADER_LIMIT = 262144
CONSOLE_PATHS = ["/login", "/settings/integrations/api-keys"]
NEW_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def served(tmp_path):
    """A `flask serve` process on a fresh instance; yields (port, key)."""
    process, port, key = start_flask_serve(tmp_path / "instance")
    yield port, key
    terminate_group(process, 30)
    process.stdout.close()


def test_a_body_over_the_limit_is_refused_before_it_is_read(served):
    port, key = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + key.encode() + b"\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: 314572800\r\n\r\n{")
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after a 413
            answer += chunk
        assert time.monotonic() - started < 5
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"Content-Type: application/json" in head
    assert body.startswith(b'{"error":{"code":"bad_request","message":"Request body is larger')


def test_slow_clients_leave_normal_requests_served(served):
    port, key = served
    slow = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /api/v1/leads HTTP/1.1\r\nHost: x\r\n")  # never finished
            slow.append(sock)
        for _ in range(3):
            for sock in slow:
                sock.sendall(b"X-Slow: 1\r\n")
            status, _, page = send_json(connect(port, 10), "GET", "/api/v1/leads",
                                        {"Authorization": f"Bearer {key}"})
            assert status == 200, page
            time.sleep(0.2)
    finally:
        for sock in slow:
            sock.close()


def test_a_tenants_hanging_crm_leaves_the_server_answering(served, tmp_path):
    port, key = served
    hanging = Receiver(default=HANG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env["VOREL_INSTANCE_PATH"] = str(tmp_path / "instance")
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "connect",
                    "--tenant", "demo", hanging.url], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    auth = {"Authorization": f"Bearer {key}"}
    pushes = [threading.Thread(target=send_json, args=(
        connect(port, 30), "POST", "/api/v1/crm/create-record", auth,
        {"object": "lead", "fields": {}, "idempotency_key": f"hang-{n}"})) for n in range(8)]
    try:
        for push in pushes:
            push.start()
        time.sleep(1)
        # `flask serve` has 8 threads; the tenant's pushes hold at most 2 of them.
        started = time.monotonic()
        status, _, _ = send_json(connect(port, 30), "GET", "/api/v1/leads", auth)
        assert status == 200 and time.monotonic() - started < 5
    finally:
        hanging.close()
        for push in pushes:
            push.join(30)


@pytest.mark.parametrize("port", ["70000", "65536", "-5"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env["VOREL_INSTANCE_PATH"] = str(tmp_path / "instance")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "serve",
                             f"--port={port}", "--no-webhooks"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '--port': {port} is not in the range 0<=x<=65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_0_serves_on_a_free_port_and_says_which(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env.update(VOREL_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve",
                                "--port", "0", "--no-webhooks"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        for line in process.stdout:
            if "listening on" in line:
                break
        port = int(line.split("http://127.0.0.1:", 1)[1].split()[0])
        assert port != 0
        status, _, _ = send_json(connect(port, 30), "GET", "/api/v1/leads", {})
        assert status == 401
    finally:
        terminate_group(process, 30)
        process.stdout.close()


@pytest.fixture
def config(config):
    """A small body limit for the in-process server."""
    return {**config, "MAX_CONTENT_LENGTH": BODY_LIMIT}


@pytest.fixture
def port(app, caplog):
    """Serve app with `flask serve`'s waitress server in a thread; yields its port."""
    caplog.set_level(logging.INFO, logger="vorel_lite")
    server = make_server(app, "127.0.0.1", 0, 2)
    thread = threading.Thread(target=server.run, name="refusals-server", daemon=True)
    thread.start()
    yield server.effective_port
    server.trigger.pull_trigger(server.close)
    thread.join(30)


def exchange(port, request):
    """Send request's bytes, read until the server closes; return (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def oversized(path, chunked, headers=b""):
    """A POST to path whose body is over BODY_LIMIT, as far as the server reads it."""
    head = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + headers
    if chunked:  # refused once the limit is read: send no more than that
        body = b"a=" + b"x" * BODY_LIMIT
        return head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body) + body + b"\r\n"
    # Refused from its Content-Length: the body is never read, so none is sent.
    return head + b"Content-Length: %d\r\n\r\n" % (2 * BODY_LIMIT)


def request_log(caplog):
    """Return the request log's lines so far."""
    return [r.getMessage() for r in caplog.records if r.name == "vorel_lite.requests"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", CONSOLE_PATHS)
def test_an_oversized_console_post_gets_the_consoles_page_a_request_id_and_a_log_line(
        port, caplog, path, chunked):
    status, headers, body = exchange(port, oversized(path, chunked, b"X-Request-Id: abc-1\r\n"))
    assert status == 413
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Request-Id"] == "abc-1"
    assert headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in headers
    assert body.startswith(b"<!doctype html>")
    assert b"<h1>413 Request Entity Too Large</h1>" in body
    assert re.fullmatch(rf"POST {path} 413 \d+\.\dms tenant=- key=- request_id=abc-1",
                        request_log(caplog)[-1])


@pytest.mark.sqlite_only
def test_the_refusal_page_is_the_page_the_console_itself_answers(port, client):
    own = client.post("/login", data={"a": "x" * BODY_LIMIT})  # refused by the app itself
    assert own.status_code == 413
    _, _, body = exchange(port, oversized("/login", chunked=False))
    assert body == own.data


@pytest.mark.sqlite_only
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_api_post_gets_the_envelope_a_request_id_and_a_log_line(
        port, caplog, auth, chunked):
    key = auth["Authorization"].encode()
    status, headers, body = exchange(port, oversized(
        "/api/v1/conversations", chunked, b"Authorization: " + key + b"\r\n"))
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert NEW_REQUEST_ID.fullmatch(headers["X-Request-Id"])
    assert json.loads(body) == {"error": {"code": "bad_request", "message": (
        f"Request body is larger than the limit of {BODY_LIMIT} bytes.")}}
    assert re.fullmatch(rf"POST /api/v1/conversations 413 \d+\.\dms tenant=- key=- "
                        rf"request_id={headers['X-Request-Id']}", request_log(caplog)[-1])


@pytest.mark.sqlite_only
@pytest.mark.parametrize("offered", ["bad id", "x" * 129])
def test_a_refusal_replaces_an_insane_request_id(port, caplog, offered):
    _, headers, _ = exchange(port, oversized("/api/v1/leads", False,
                                             f"X-Request-Id: {offered}\r\n".encode()))
    assert NEW_REQUEST_ID.fullmatch(headers["X-Request-Id"])
    assert request_log(caplog)[-1].endswith(f" request_id={headers['X-Request-Id']}")


@pytest.mark.sqlite_only
def test_a_refused_path_is_logged_quoted_as_the_app_logs_it(port, caplog):
    exchange(port, oversized("/api/v1/a%20b%0Ac/%C3%BC", chunked=False))
    assert request_log(caplog)[-1].startswith("POST /api/v1/a%20b%0Ac/%C3%BC 413 ")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    # Header lines past waitress' limit, never ended: the request line is not kept either.
    (b"GET /login HTTP/1.1\r\nX-Big: " + b"y" * HEADER_LIMIT, 431),
], ids=["malformed", "headers-too-large"])
def test_a_request_refused_before_its_request_line_was_read_gets_the_envelope(
        port, caplog, request_bytes, status):
    answered, headers, body = exchange(port, request_bytes)
    assert answered == status
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert request_log(caplog)[-1].startswith(f"- - {status} ")
    assert request_log(caplog)[-1].endswith(f" tenant=- key=- request_id={headers['X-Request-Id']}")


@pytest.mark.sqlite_only
def test_a_malformed_request_on_a_console_path_gets_the_consoles_page(port, caplog):
    status, headers, body = exchange(
        port, b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
    assert status == 400 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>400 Bad Request</h1>" in body
    assert request_log(caplog)[-1].startswith("POST /login 400 ")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path, content_type", [
    ("/login", "text/html; charset=utf-8"), ("/api/v1/leads", "application/json")])
def test_a_500_the_server_answers_for_the_app_is_the_consoles_or_the_apis(
        app, port, caplog, path, content_type):
    def failing(environ, start_response):
        raise RuntimeError("a failure outside Flask's error handling")
    app.wsgi_app = failing
    status, headers, body = exchange(
        port, f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: r-500\r\n\r\n".encode())
    assert status == 500 and headers["Content-Type"] == content_type
    assert headers["X-Request-Id"] == "r-500"
    assert b"Internal Server Error" in body
    assert re.fullmatch(rf"GET {path} 500 \d+\.\dms tenant=- key=- request_id=r-500",
                        request_log(caplog)[-1])


@pytest.mark.sqlite_only
@pytest.mark.parametrize("size, status", [(BODY_LIMIT, 201), (BODY_LIMIT + 1, 413)])
def test_waitress_takes_a_body_of_exactly_the_limit_and_refuses_one_byte_more(
        port, auth, size, status):
    body = padded({"channel": "whatsapp", "customer_identifier": "+971500000002"}, size)
    answered, _, answer = exchange(port, (
        b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: " + auth["Authorization"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size + body))
    assert answered == status, answer


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with threaded workers, as the README scales out, and a limit of BODY_LIMIT."""
    url, instance, key = provision(tmp_path)
    with Gunicorn(tmp_path, url, instance, 1, settings={"MAX_CONTENT_LENGTH": BODY_LIMIT},
                  worker_class="gthread", threads=4) as server:
        server.wait_until_serving(key)
        yield server, key


def post_chunked(server, key, body):
    """POST body to /api/v1/conversations in chunks of 1000 bytes; return (status, headers,
    body) of the answer."""
    connection = server.connect()
    try:
        # An iterable body and no Content-Length: http.client sends it chunked.
        connection.request("POST", "/api/v1/conversations",
                           body=iter([body[at:at + 1000] for at in range(0, len(body), 1000)]),
                           headers={"Authorization": f"Bearer {key}",
                                    "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_gunicorn_answers_a_chunked_body_over_the_limit_as_the_app_answers_one(gunicorn):
    server, key = gunicorn
    document = {"channel": "whatsapp", "customer_identifier": "+971500000002"}
    status, _, answer = post_chunked(server, key, padded(document, BODY_LIMIT))
    assert status == 201, answer
    for size in (BODY_LIMIT + 1, 20 * BODY_LIMIT):
        status, headers, answer = post_chunked(server, key, padded(document, size))
        assert status == 413, answer
        assert headers["Content-Type"] == "application/json"
        assert json.loads(answer) == {"error": {"code": "bad_request", "message": (
            f"Request body is larger than the limit of {BODY_LIMIT} bytes.")}}
        assert NEW_REQUEST_ID.fullmatch(headers["X-Request-Id"])
        assert "X-RateLimit-Remaining" in headers
        assert re.search(rf"POST /api/v1/conversations 413 \S+ tenant=\S+ key=\S+ "
                         rf"request_id={headers['X-Request-Id']}", server.log())
    assert not server.problems(), "\n".join(server.problems()[:20])
