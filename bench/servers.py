"""Gunicorn servers for the HTTP benchmarks, and the memory of their workers."""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
START_TIMEOUT = 60
STOP_TIMEOUT = 15


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_group(process):
    """SIGTERM the process group of a server started in its own session, then SIGKILL it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(STOP_TIMEOUT)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(STOP_TIMEOUT)


class Gunicorn:
    """`gunicorn -w N -k CLASS` of vorel-lite's or the bare app, in its own session.

    worker_class: "sync" (a connection per request), or "gthread" with threads per worker,
    which keeps connections alive between requests. reuse_port: each worker listens on its own
    socket (SO_REUSEPORT), so the kernel spreads new connections over the workers.
    """

    def __init__(self, app, workers, log_path, env=None, worker_class="sync", threads=1,
                 reuse_port=False):
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.log_file = open(self.log_path, "wb")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOREL_")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class,
             "--threads", str(threads), *(["--reuse-port"] if reuse_port else []),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "120", "--backlog", "2048",
             # No control socket in $HOME, shared with every other gunicorn of the user.
             "--no-control-socket", "--pythonpath", str(BENCH), app],
            cwd=ROOT, env=full_env, stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, last=40):
        self.log_file.flush()
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-last:]) or "(no output)"

    def get(self, path, key=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {key}"}
                               if key else {})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def wait_until_serving(self, path, key=None):
        """Wait until every worker has booted and path answers 200."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not serve within {START_TIMEOUT} s:\n"
                                   f"{self.log()}")
            booted = self.log_path.read_text(errors="replace").count("Booting worker with pid")
            if booted >= self.workers and len(self.worker_pids()) >= self.workers:
                try:
                    status = self.get(path, key)
                except OSError:
                    status = None
                if status == 200:
                    return
                if status is not None:
                    raise RuntimeError(f"{path} answered {status}:\n{self.log()}")
            time.sleep(0.1)

    @property
    def hosts(self):
        """Where wrk sends the load: host:port of each instance (here one)."""
        return [f"127.0.0.1:{self.port}"]

    def pids(self):
        """The master's pid and its workers'."""
        return [self.process.pid] + self.worker_pids()

    def worker_pids(self):
        """The pids of the master's children (its workers)."""
        pids = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:
                pass
        return pids

    def problems(self):
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines()
                if re.search(r"Traceback|\bERROR\b|CRITICAL|WORKER TIMEOUT|Worker exiting|"
                             r" 5\d\d [0-9.]+ms tenant=", line)]

    def stop(self):
        stop_group(self.process)
        self.log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


class Instances:
    """Several gunicorn instances standing for several hosts: wrk loads them all at once."""

    def __init__(self, *instances):
        self.instances = instances
        self.url = instances[0].url

    @property
    def hosts(self):
        return [host for instance in self.instances for host in instance.hosts]

    def pids(self):
        return [pid for instance in self.instances for pid in instance.pids()]

    def wait_until_serving(self, path, key=None):
        for instance in self.instances:
            instance.wait_until_serving(path, key)

    def problems(self):
        return [line for instance in self.instances for line in instance.problems()]

    def stop(self):
        for instance in self.instances:
            instance.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def memory_kib(pid):
    """VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values
