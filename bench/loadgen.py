"""Running wrk with wrk_request.lua and reading what its done() prints."""
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cpu
import seed

SCRIPT = Path(__file__).resolve().parent / "wrk_request.lua"


def wrk_version():
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("bench: wrk is not installed (make bench installs it with apt-get; "
                         "or see https://github.com/wg/wrk)")
    result = subprocess.run([path, "--version"], capture_output=True, text=True)
    return (result.stdout + result.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass
class Target:
    """What the Lua script needs to know of the seeded database and its keys."""
    keys_file: str = ""
    leads: int = 1
    conversations: int = 1


@dataclass
class Result:
    requests: int
    seconds: float
    numbers_used: int  # from the fresh start on, {unique} and {fresh_conversation} included
    errors: dict
    percentiles_us: dict
    latency_us: dict
    wrk_cpu_seconds: float  # user + system CPU of wrk itself

    @property
    def rps(self):
        return self.requests / self.seconds

    def p(self, q):
        """Latency percentile q in milliseconds."""
        return self.percentiles_us[str(q)] / 1000

    @property
    def failed(self):
        return sum(self.errors.values())


def run_wrk(url, endpoint, target, fresh_start, *, threads, connections, duration, timeout=10,
            hosts=()):
    """Run wrk against url for endpoint; return a Result.

    With several hosts ("127.0.0.1:port"), wrk's threads take them in turn, one each.
    """
    env = dict(os.environ, BENCH_HOSTS=",".join(hosts) if len(hosts) > 1 else "",
               BENCH_METHOD=endpoint.method, BENCH_PATH=endpoint.path, BENCH_BODY=endpoint.body,
               BENCH_KEYS=target.keys_file, BENCH_THREADS=str(threads),
               BENCH_LEADS=str(target.leads), BENCH_CONVERSATIONS=str(target.conversations),
               BENCH_FRESH_START=str(fresh_start), BENCH_LEAD_PREFIX=seed.LEAD_PREFIX,
               BENCH_CONVERSATION_PREFIX=seed.CONVERSATION_PREFIX,
               BENCH_FRESH_PREFIX=seed.FRESH_PREFIX,
               BENCH_OFFERING_PREFIX=seed.OFFERING_PREFIX, BENCH_OFFERINGS=str(seed.OFFERINGS),
               BENCH_APPOINTMENT_PREFIX=seed.APPOINTMENT_PREFIX,
               BENCH_APPOINTMENTS=str(seed.APPOINTMENTS),
               BENCH_DEEP_CURSOR=seed.lead_id(seed.DEEP_CURSOR_INDEX))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
               f"--timeout={timeout}s", "-s", str(SCRIPT), url]
    before = cpu.children_seconds()
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    wrk_cpu = cpu.children_seconds() - before
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {' '.join(command)}\n"
                           f"{completed.stdout}\n{completed.stderr}")
    data = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    return Result(requests=data["requests"], numbers_used=data["numbers_used"],
                  seconds=data["duration_us"] / 1e6,
                  errors=data["errors"], percentiles_us=data["percentiles_us"],
                  latency_us=data["latency_us"], wrk_cpu_seconds=wrk_cpu)
