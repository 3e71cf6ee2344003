"""The reference servers installed with npm: Prism's mock and json-server.

Their versions are pinned by bench/reference/package-lock.json; `npm ci` installs them once
into a cache folder named after the lock file's hash (~/.cache/vorel-lite-bench/<hash>, or
under $XDG_CACHE_HOME), outside the checkout, so later runs start at once.
"""
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import servers
from seed import BASE_EPOCH, conversation_id, lead_id

REFERENCE = Path(__file__).resolve().parent / "reference"
MANIFESTS = ("package.json", "package-lock.json")
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60


def cache_folder():
    """Where `npm ci` puts the servers of this lock file."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    lock = hashlib.sha256((REFERENCE / "package-lock.json").read_bytes()).hexdigest()[:12]
    return base / "vorel-lite-bench" / lock


def install_or_reason(folder=None, npm=None):
    """Return the folder of the servers' executables, installing them the first time, or
    the reason there are none (npm missing, the install failed) as a str."""
    folder = Path(folder or cache_folder())
    binaries = folder / "node_modules" / ".bin"
    marker = folder / ".installed"
    if marker.exists():
        return binaries
    npm = npm or shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return "npm is missing (install Node.js and npm to compare with Prism and json-server)"
    folder.mkdir(parents=True, exist_ok=True)
    for name in MANIFESTS:
        shutil.copyfile(REFERENCE / name, folder / name)
    try:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(folder)],
                              cwd=folder, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm ci failed: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        return f"npm ci failed (exit {done.returncode}): {last}"
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    return binaries


def version(binaries, package):
    """The installed version of an npm package."""
    manifest = binaries.parent / package / "package.json"
    return json.loads(manifest.read_text())["version"]


def json_server_database(path, rows):
    """Write json-server's file: `leads`, rows of them shaped as vorel-lite's seeded leads."""
    leads = [{"id": lead_id(n), "conversation_id": conversation_id(n), "name": f"Lead {n}",
              "email": f"lead{n}@example.com", "phone": "+971500000000", "intent": "buy",
              "timeline": None, "qualification_score": None, "status": "new",
              "source": "whatsapp", "attributes": {"bedrooms": 2},
              "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                                          time.gmtime(BASE_EPOCH + n)),
              "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                                          time.gmtime(BASE_EPOCH + n))}
             for n in range(rows)]
    Path(path).write_text(json.dumps({"leads": leads}, indent=2))


class NodeServer:
    """A Node.js server (one process) on a free port, in its own session, logging to a file."""

    def __init__(self, command, log_path):
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(part).format(port=self.port) for part in command],
            env={**os.environ, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL,
            stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def hosts(self):
        return [f"127.0.0.1:{self.port}"]

    def pids(self):
        """The server's process and its descendants."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    queue += [int(p) for p in children.read_text().split()]
                except OSError:
                    pass
        return found

    def log(self, last=30):
        self.log_file.flush()
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-last:]) or "(no output)"

    def wait_until_answering(self, path):
        """Wait until path answers anything over HTTP; return its status."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args[0]} exited "
                                   f"({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer within {START_TIMEOUT} s:\n{self.log()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                return response.status
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()

    def stop(self):
        servers.stop_group(self.process)
        self.log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def prism(binaries, document, log_path):
    """Prism's mock of document, as `prism mock` starts it by default (static examples)."""
    return NodeServer([binaries / "prism", "mock", "-h", "127.0.0.1", "-p", "{port}",
                       document], log_path)


def json_server(binaries, database, log_path):
    """json-server 0.17 on its file, as `json-server` starts it by default."""
    return NodeServer([binaries / "json-server", "--host", "127.0.0.1", "--port", "{port}",
                       database], log_path)
