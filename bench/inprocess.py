"""Requests through the Flask test client: no network, no server, one thread.

Used for the cost per request of each endpoint against the bare route, for the profile of
a lead creation, and for the growth of latency with the database's size.
"""
import cProfile
import io
import logging
import os
import pstats
import statistics
import time

import seed
from endpoints import Filler


def quiet_request_log():
    """Send vorel-lite's request log to /dev/null: formatted and written, as in production."""
    from vorel_lite import requestlog

    logger = logging.getLogger("vorel_lite")
    if not logger.handlers:
        handler = logging.StreamHandler(open(os.devnull, "w"))
        handler.setFormatter(requestlog.StderrFormatter(requestlog.STDERR_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False


def vorel_app(database, instance, **settings):
    from vorel_lite import create_app

    quiet_request_log()
    return create_app({**seed.app_config(database, instance), **settings})


def bare_app(database=None, tenant=None):
    import bare_app as module

    return module.create_app(database, tenant)


def compare(kinds, seconds, block=0.5, warmup=50):
    """Rows of req/s, p50, p99 and ratio to the first kind; kinds: (endpoint, Client) pairs.

    Each is sent back to back in blocks of `block` seconds, the blocks of all of them in
    turn, so that whatever else the machine does weighs on all of them alike.
    """
    durations = {endpoint.name: [] for endpoint, _ in kinds}
    # Each round's mean per kind: a ratio within a round compares blocks run side by side.
    round_means = {endpoint.name: [] for endpoint, _ in kinds}
    for endpoint, sender in kinds:
        sender.timed(endpoint, warmup)
    for _ in range(max(1, round(seconds / block))):
        for endpoint, sender in kinds:
            deadline = time.perf_counter() + block
            timed = []
            while time.perf_counter() < deadline:
                timed += sender.timed(endpoint, 1)
            durations[endpoint.name] += timed
            round_means[endpoint.name].append(statistics.fmean(timed))
    reference = statistics.fmean(durations[kinds[0][0].name])
    rows = []
    for endpoint, _ in kinds:
        summary = summarize(durations[endpoint.name])
        mean = summary["mean"] / 1000
        rows.append({"endpoint": endpoint.name, "rps": 1 / mean, "ratio": reference / mean,
                     "p50": summary["p50"], "p99": summary["p99"], "count": summary["count"],
                     "round_means": round_means[endpoint.name]})
    return rows


class Client:
    """A test client sending an endpoint's requests, rotating keys, checking each status."""

    def __init__(self, app, keys=(), filler=None):
        self.client = app.test_client()
        self.keys = list(keys)
        self.filler = filler or Filler(1, 1, 0)
        self.seq = 0

    def send(self, endpoint):
        seq = self.seq
        self.seq += 1
        path, body = self.filler.fill(endpoint, seq)
        headers = {}
        if self.keys:
            headers["Authorization"] = f"Bearer {self.keys[seq % len(self.keys)]}"
        if body:
            headers["Content-Type"] = "application/json"
        response = self.client.open(path, method=endpoint.method, data=body or None,
                                    headers=headers)
        if response.status_code != endpoint.status:
            raise RuntimeError(f"{endpoint.method} {path} answered {response.status_code}, "
                               f"not {endpoint.status}: {response.get_data(as_text=True)[:300]}")
        return response

    def timed(self, endpoint, count):
        """Send count requests; return the duration of each, in seconds."""
        durations = []
        for _ in range(count):
            started = time.perf_counter()
            self.send(endpoint)
            durations.append(time.perf_counter() - started)
        return durations

    def throughput(self, endpoint, seconds, warmup=50):
        """Requests per second sent back to back for about `seconds`, after a warm-up."""
        for _ in range(warmup):
            self.send(endpoint)
        count, started = 0, time.perf_counter()
        deadline = started + seconds
        while True:
            self.send(endpoint)
            count += 1
            if count % 10 == 0 and time.perf_counter() >= deadline:
                break
        return count / (time.perf_counter() - started)


def summarize(durations):
    """p50, p99 and mean of durations, in milliseconds."""
    ordered = sorted(durations)

    def pick(q):
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000

    return {"p50": pick(50), "p99": pick(99), "mean": statistics.fmean(ordered) * 1000,
            "count": len(ordered)}


def pyinstrument_profile(client, endpoint, count):
    """The pyinstrument call tree of count requests to endpoint, as text."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(count):
        client.send(endpoint)
    profiler.stop()
    return profiler.output_text(unicode=False, color=False, short_mode=False)


def cprofile_top(client, endpoint, count, top=25):
    """cProfile's top entries by own time (tottime) over count requests to endpoint."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        client.send(endpoint)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


class CapturedSQL(logging.Handler):
    """Collect the SQL statements peewee logs (at DEBUG) while it is attached."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.statements.append(record.msg)

    def __enter__(self):
        logger = logging.getLogger("peewee")
        self.previous = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc_info):
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        logger.setLevel(self.previous)
