"""gunicorn's sync workers and slow clients: alone they starve, behind nginx nobody does.

A sync worker reads a whole request itself, so a client that sends its headers slowly holds
a worker; nginx reads whole requests on its event loop and hands gunicorn only complete ones
(proxy_request_buffering, on by default). docs/nginx.conf is the configuration the README
recommends; this test runs that file, with only its ports and paths filled in.
"""
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from processes import connect, free_port, send_json, terminate_group
from services import skip_or_fail
from test_multiprocess import Gunicorn, provision

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLOW_CLIENTS = 250
WORKERS = 2


@pytest.fixture(autouse=True)
def nginx_installed():
    """Skip (fail under CI) without nginx."""
    if not Path(NGINX).exists():
        skip_or_fail("no nginx: `apt-get install nginx-light` (.ci/run installs it) to run these")


def slow_connections(port, count):
    """Open count connections that send the start of a request and never finish it."""
    connections = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /api/v1/leads HTTP/1.1\r\nHost: x\r\n")
        connections.append(sock)
    return connections


def leads_status(port, key, timeout):
    """GET /api/v1/leads with key; return the status, or None if no answer came in time."""
    try:
        status, _, _ = send_json(connect(port, timeout), "GET", "/api/v1/leads",
                                 {"Authorization": f"Bearer {key}"})
        return status
    except OSError:
        return None


@pytest.fixture
def gunicorn(tmp_path):
    database, instance, key = provision(tmp_path)
    with Gunicorn(tmp_path, database, instance, workers=WORKERS,
                  settings={"METRICS_ENABLED": "true"}) as running:
        running.wait_until_serving(key)
        yield running, key


@pytest.fixture
def nginx(tmp_path, gunicorn):
    server, key = gunicorn
    port = free_port()
    config = (ROOT / "docs" / "nginx.conf").read_text()
    config = (config.replace("listen 80;", f"listen 127.0.0.1:{port};")
              .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{server.port};"))
    directory = tmp_path / "nginx"
    directory.mkdir()
    (directory / "nginx.conf").write_text(
        f"daemon off;\nuser root root;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n" + config.replace(
            "http {", f"http {{\n    access_log off;\n    client_body_temp_path {directory};\n"
                      f"    proxy_temp_path {directory};", 1))
    process = subprocess.Popen([NGINX, "-p", str(directory), "-c", "nginx.conf"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while leads_status(port, key, 2) != 200:
        assert process.poll() is None, (directory / "error.log").read_text()
        assert time.monotonic() < deadline, "nginx did not serve within 30 s"
        time.sleep(0.1)
    yield port, key
    terminate_group(process, 30)


def test_a_few_slow_clients_starve_gunicorn_alone(gunicorn):
    server, key = gunicorn
    slow = slow_connections(server.port, 2 * WORKERS)
    try:
        assert leads_status(server.port, key, 3) is None
    finally:
        for sock in slow:
            sock.close()


def test_behind_nginx_250_slow_clients_starve_nobody(nginx):
    port, key = nginx
    slow = slow_connections(port, SLOW_CLIENTS)
    try:
        for _ in range(3):
            for sock in slow:
                sock.sendall(b"X-Slow: 1\r\n")
            assert leads_status(port, key, 10) == 200
            time.sleep(0.2)
    finally:
        for sock in slow:
            sock.close()


def test_nginx_passes_a_body_over_the_limit_refusal_through_unread(nginx):
    port, key = nginx
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + key.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n{")
        answer = b""
        started = time.monotonic()
        while not answer.endswith(b"}") and time.monotonic() - started < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head, answer[:300]
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_nginx_refuses_metrics_that_gunicorn_serves_privately(gunicorn, nginx):
    server, _ = gunicorn
    port, _ = nginx
    status, _, text = send_json(server.connect(), "GET", "/metrics", {})
    assert status == 200 and "vorel_http_requests_total" in text
    for path in ("/metrics", "//metrics", "/%6Detrics", "/metrics?format=text"):
        status, headers, body = send_json(connect(port, 10), "GET", path, {})
        assert status == 404 and headers["Content-Type"] == "application/json", (path, body)
        assert body["error"]["code"] == "not_found"
