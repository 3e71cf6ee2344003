"""`flask serve` under abuse: oversized bodies refused unread, slow clients starve nobody."""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from processes import connect, send_json, start_flask_serve, terminate_group
from receiver import HANG, Receiver

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 250


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
