"""`make run` really starts: it prints a working demo key, serves on HOST:PORT, reuses the key.

Each start runs the real Makefile target (init-db, demo, waitress) in its own process group,
with VOREL_INSTANCE_PATH pointing at a temporary folder so the developer's instance/ is left
alone.
"""
import json
import os
import queue
import re
import shutil
import socket
import stat
import subprocess
import textwrap
import threading
import time
from pathlib import Path

from processes import connect, free_port, send_json, terminate_group

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"vapk_(live|test)_[0-9a-f]{48}")
KEY_TIMEOUT = 120  # seconds until the demo key is printed (init-db and demo run first)
PORT_TIMEOUT = 60  # seconds until the server accepts connections
HTTP_TIMEOUT = 30
STOP_TIMEOUT = 30


class MakeRun:
    """`make run` in its own session, its merged output read by a thread."""

    def __init__(self, instance_path, port=None):
        assert shutil.which("make"), "make is not installed; `make run` cannot be tested"
        self.port = port or free_port()
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("VOREL_", "MAKE", "MFLAGS"))}
        env["VOREL_INSTANCE_PATH"] = str(instance_path)
        env["PYTHONUNBUFFERED"] = "1"
        self.lines = queue.Queue()
        self.output = []
        self.process = subprocess.Popen(
            ["make", "run", "HOST=127.0.0.1", f"PORT={self.port}"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def log(self):
        return "".join(self.output) or "(no output)"

    def read_key(self):
        """Wait for the demo key line and return the key."""
        deadline = time.monotonic() + KEY_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no demo key within {KEY_TIMEOUT} s; output:\n{self.log()}"
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, (f"make run exited ({self.process.wait()}) before printing "
                                      f"a demo key; output:\n{self.log()}")
            match = KEY.search(line)
            if match:
                return match.group(0)

    def wait_for_port(self):
        """Wait until the server accepts connections."""
        deadline = time.monotonic() + PORT_TIMEOUT
        while True:
            assert self.process.poll() is None, (f"make run exited ({self.process.returncode}) "
                                                 f"before serving; output:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, (f"nothing listens on port {self.port} "
                                                     f"after {PORT_TIMEOUT} s; output:\n"
                                                     f"{self.log()}")
                time.sleep(0.1)

    def request(self, method, path, key, body=None):
        """Send a request with key; return (status, decoded JSON body)."""
        status, _, decoded = send_json(connect(self.port, HTTP_TIMEOUT), method, path,
                                       {"Authorization": f"Bearer {key}"}, body)
        return status, decoded

    def stop(self):
        """Terminate the whole process group (make, flask, waitress) and wait for it."""
        terminate_group(self.process, STOP_TIMEOUT)
        self.reader.join(STOP_TIMEOUT)
        self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def assert_port_closed(port):
    """Assert the server stopped listening once its process group was terminated."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        assert time.monotonic() < deadline, f"port {port} still accepts connections after stop"
        time.sleep(0.1)


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_make_run_serves_the_printed_demo_key(tmp_path):
    instance = tmp_path / "instance"
    with MakeRun(instance) as run:
        key = run.read_key()
        run.wait_for_port()

        status, conversation = run.request("POST", "/api/v1/conversations", key,
                                           {"channel": "whatsapp",
                                            "customer_identifier": "+971500000001"})
        assert status == 201, (conversation, run.log())
        status, lead = run.request("POST", "/api/v1/leads", key,
                                   {"conversation_id": conversation["id"], "name": "Layla",
                                    "status": "qualified"})
        assert status == 201, (lead, run.log())
        assert lead["conversation_id"] == conversation["id"]

        demo_key = instance / "demo-key"
        assert demo_key.read_text(encoding="ascii").strip() == key
        assert file_mode(demo_key) == 0o600
        assert (instance / "vorel.db").is_file()
    assert run.process.returncode is not None
    assert_port_closed(run.port)


def test_make_run_reuses_the_demo_key_on_the_next_start(tmp_path):
    instance = tmp_path / "instance"
    with MakeRun(instance) as first:
        key = first.read_key()
        first.wait_for_port()
        status, conversation = first.request("POST", "/api/v1/conversations", key,
                                             {"channel": "email",
                                              "customer_identifier": "layla@example.com"})
        assert status == 201, (conversation, first.log())
    assert_port_closed(first.port)

    with MakeRun(instance) as second:
        assert second.read_key() == key
        second.wait_for_port()
        # The reused key still works, on the same database.
        status, page = second.request("GET", "/api/v1/conversations", key)
        assert status == 200, (page, second.log())
        assert [c["id"] for c in page["data"]] == [conversation["id"]]
    assert (instance / "demo-key").read_text(encoding="ascii").strip() == key
    assert file_mode(instance / "demo-key") == 0o600


def printed_calls(run):
    """Return the shell commands of the printed example calls."""
    match = re.search(r"Try it.*?\n\n(.*?)\n\nThe operator console", run.log(), re.S)
    assert match, run.log()
    return textwrap.dedent(match.group(1))


def test_the_printed_example_works_on_every_start(tmp_path):
    instance = tmp_path / "instance"
    for _ in range(2):
        with MakeRun(instance) as run:
            run.read_key()
            run.wait_for_port()
            # Run as printed, in a shell: the conversation, then its lead.
            done = subprocess.run(["bash", "-c", printed_calls(run)], capture_output=True,
                                  text=True, timeout=30)
            assert done.returncode == 0, (done.stderr, run.log())
            conversation, lead = json.loads(done.stderr), json.loads(done.stdout)
            assert lead["status"] == "qualified", (done.stdout, run.log())
            assert lead["conversation_id"] == conversation["id"]
            assert f"listening on http://127.0.0.1:{run.port}" in run.log()


def test_a_taken_port_is_said_in_one_line_before_any_key(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        run = MakeRun(tmp_path / "instance", port=taken.getsockname()[1])
        assert run.process.wait(KEY_TIMEOUT) != 0
        run.stop()
    finally:
        taken.close()
    log = run.log()
    assert f"cannot listen on 127.0.0.1:{run.port}" in log and "make run PORT=" in log
    assert "Traceback" not in log and not KEY.search(log), log
