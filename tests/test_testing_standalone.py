"""`python -m vorel_lite.testing`: the stand-in server a test suite in any language starts."""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import connect, free_port, group_alive, send_json, terminate_group
from services import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60  # seconds to start, to answer, to stop: generous on a busy machine
ORPHAN_TIMEOUT = 15  # seconds an orphaned server may take to notice and stop
CUSTOMER = {"channel": "whatsapp", "customer_identifier": "+971500000001"}


@pytest.fixture
def start(tmp_path):
    """Return a function starting the stand-alone server; its stderr goes to a file."""
    started = []

    def start_server(*args):
        stderr = open(tmp_path / f"stderr-{len(started)}.log", "w+")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
        process = subprocess.Popen([sys.executable, "-m", "vorel_lite.testing", *args],
                                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=stderr,
                                   text=True, start_new_session=True)
        process.stderr_log = stderr
        started.append(process)
        return process
    yield start_server
    for process in started:
        terminate_group(process, TIMEOUT)
        process.stdout.close()
        process.stderr_log.close()


def read_announcement(process):
    """Return the JSON object of the server's first stdout line, once it is printed."""
    readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    assert readable, "no line on stdout"
    return json.loads(process.stdout.readline())


def stderr_of(process):
    process.stderr_log.seek(0)
    return process.stderr_log.read()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_it_announces_itself_serves_the_key_and_stops_cleanly(start, stop):
    process = start()
    announced = read_announcement(process)
    assert set(announced) == {"url", "api_key", "tenant"}
    port = int(re.fullmatch(r"http://127\.0\.0\.1:(\d+)", announced["url"]).group(1))
    headers = {"Authorization": f"Bearer {announced['api_key']}"}
    status, _, created = send_json(connect(port, TIMEOUT), "POST", "/api/v1/conversations",
                                   headers, CUSTOMER)
    assert status == 201, created
    status, _, page = send_json(connect(port, TIMEOUT), "GET", "/api/v1/conversations", headers)
    assert (status, [row["id"] for row in page["data"]]) == (200, [created["id"]])

    process.send_signal(stop)
    assert process.wait(TIMEOUT) == 0, stderr_of(process)
    assert process.stdout.read() == "", "stdout holds more than the one line"
    log = stderr_of(process)
    assert "Traceback" not in log
    assert "POST /api/v1/conversations 201" in log


def test_it_listens_on_the_port_it_is_given(start):
    port = free_port()
    process = start("--port", str(port))
    announced = read_announcement(process)
    assert announced["url"] == f"http://127.0.0.1:{port}"
    assert re.fullmatch(r"vapk_test_[0-9a-f]{48}", announced["api_key"])
    status, _, _ = send_json(connect(port, TIMEOUT), "GET", "/api/v1/leads",
                             {"Authorization": f"Bearer {announced['api_key']}"})
    assert status == 200


def test_a_taken_port_is_said_on_stderr_and_nothing_on_stdout(start):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = start("--port", str(taken.getsockname()[1]))
        assert process.wait(TIMEOUT) == 1
    assert process.stdout.read() == ""
    assert "cannot listen on 127.0.0.1:" in stderr_of(process)


@pytest.mark.parametrize("port", ["70000", "65536", "-5", "x"])
def test_a_port_out_of_range_is_a_usage_error(start, port):
    process = start(f"--port={port}")
    assert process.wait(TIMEOUT) == 2
    assert process.stdout.read() == ""
    log = stderr_of(process)
    assert f"a port is a whole number from 0 to 65535, not '{port}'" in log
    assert "Traceback" not in log


# A parent that starts the server with its own stdout, waits for it, and is killed with -9.
PARENT = ("import subprocess, sys\n"
          "subprocess.Popen([sys.executable, '-m', 'vorel_lite.testing']).wait()\n")


def test_it_stops_and_frees_its_port_when_its_parent_is_killed(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    with open(tmp_path / "stderr.log", "w+") as stderr:
        parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  start_new_session=True)
        try:
            parent.stderr_log = stderr
            port = int(read_announcement(parent)["url"].rpartition(":")[2])
            status, _, _ = send_json(connect(port, TIMEOUT), "GET", "/api/v1/leads", {})
            assert status == 401
            parent.kill()
            parent.wait(TIMEOUT)
            deadline = time.monotonic() + ORPHAN_TIMEOUT
            # The group is the server alone now; it must end without being signalled.
            while group_alive(parent.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not group_alive(parent.pid), "the server outlived its parent"
        finally:
            terminate_group(parent, TIMEOUT)
            parent.stdout.close()
        with pytest.raises(ConnectionRefusedError):
            connect(port, TIMEOUT)
        log = stderr_of(parent)
    assert "Traceback" not in log


def test_the_readme_node_example_passes(tmp_path):
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed: the README's Node example was not run")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## In your tests\n", 1)[1].split("\n## ", 1)[0]
    (tmp_path / "vorel.test.mjs").write_text(re.search(r"```js\n(.*?)```", section, re.S)[1])
    # The example runs `python`: the one vorel-lite is installed in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    process = subprocess.Popen([node, "--test", "vorel.test.mjs"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        terminate_group(process, TIMEOUT)
    assert process.returncode == 0, output
    assert re.search(r"^# pass 1$", output, re.M), output
    assert re.search(r"^# fail 0$", output, re.M), output
