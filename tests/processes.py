"""Servers the tests start: a free port, JSON requests over loopback, stopping them all."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect(port, timeout):
    """Return an open HTTP connection to the loopback port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.connect()
    return connection


def send_json(connection, method, path, headers, body=None, keep_open=False):
    """Send body as JSON on connection, then close it unless keep_open; return (status,
    headers, decoded body).

    The body is decoded as JSON, or as text when it is not JSON.
    """
    headers = dict(headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        if not keep_open:
            connection.close()
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = raw.decode("utf-8", "replace")
    return response.status, dict(response.getheaders()), decoded


def terminate_group(process, timeout):
    """SIGTERM process's group, give it timeout seconds, then make sure nothing of it survives."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    kill_group(process, timeout)


def kill_group(process, timeout):
    """SIGKILL process's whole group (children and orphans too) and wait until it is gone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout)
    deadline = time.monotonic() + timeout
    while group_alive(process.pid):
        assert time.monotonic() < deadline, f"process group {process.pid} survived SIGKILL"
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def group_alive(pgid):
    """Tell whether a process of group pgid still runs; zombies (dead, unreaped) do not."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
            state, _, group = stat.read_text().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False


def start_flask_serve(instance, **settings):
    """Start `flask serve --demo` on a fresh instance folder, with VOREL_<name> settings.

    Returns (process, port, key) once it listens; stop it with terminate_group, then close
    process.stdout.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env.update(VOREL_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1",
               **{f"VOREL_{name}": str(value) for name, value in settings.items()})
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(flask + ["init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen(flask + ["serve", "--demo", "--port", str(port), "--no-webhooks"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    key = None
    for line in process.stdout:
        if line.strip().startswith("vapk_"):
            key = line.strip()
        if "listening on" in line:
            break
    assert key, "no demo key printed"
    return process, port, key
