"""Benchmark: deliveries per second one worker process sustains against a local receiver.

Run: .venv/bin/python bench/webhook_delivery.py [--events N] [--database sqlite|postgres]
[--receiver fast|threaded] [--batch N] [--subscriptions N]. Prints one table; writes nothing
(PostgreSQL: a throw-away database on the local server, dropped afterwards). With several
subscriptions (one tenant's, all to the one receiver), each event is delivered to each.

Receivers: `fast` is bench/webhook_receiver.py in its own process (asyncio, keep-alive);
`threaded` is the tests' http.server receiver in this process, as before: it closes every
connection and shares this process's GIL, so it caps the figure itself. The "bare POST"
column is the receiver's ceiling seen from here: the same POSTs in a loop over one kept-alive
connection, with no database, signing or envelope.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.request import urlopen

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))

from receiver import Receiver  # noqa: E402
from vorel_lite import create_app  # noqa: E402
from vorel_lite.keys import SCOPES, issue_key  # noqa: E402
from vorel_lite.models import Event, Tenant  # noqa: E402
from vorel_lite.outbound import Sender  # noqa: E402
from vorel_lite.webhooks.delivery import run_worker  # noqa: E402
from vorel_lite.webhooks.fanout import fan_out  # noqa: E402
from vorel_lite.webhooks.subscriptions import add_subscription  # noqa: E402

POSTGRES = os.environ.get("VOREL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


class FastReceiver:
    """bench/webhook_receiver.py in its own process."""

    def __init__(self):
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "webhook_receiver.py"), str(port)],
            stdout=subprocess.PIPE)
        self.process.stdout.readline()
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/hooks"

    def stats(self):
        with urlopen(f"{self.base}/stats", timeout=10) as answer:
            stats = json.load(answer)
        return {**stats, "connections": stats["connections"] - 1}  # this one's

    def close(self):
        self.process.kill()
        self.process.wait()


class ThreadedReceiver(Receiver):
    """The tests' receiver (tests/receiver.py), in this process."""

    def stats(self):
        bodies = self.bodies()
        return {"received": len(bodies), "distinct": len({json.loads(b)["id"] for b in bodies}),
                "connections": len(bodies)}


def database_url(kind):
    """Return (url, drop) for a new database of that kind."""
    if kind == "sqlite":
        return None, lambda: None
    import psycopg
    name = f"vorel_bench_webhooks_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"{POSTGRES}/{name}", drop


def bare_rate(url, count=2000):
    """Return POSTs per second of a loop over one kept-alive connection: the receiver's ceiling."""
    sender, body = Sender(), json.dumps({"data": {"name": "x" * 200}}).encode()
    started = time.perf_counter()
    for number in range(count):
        sender.post(url, body, {"webhook-id": f"bare-{number}"}, 10)
    elapsed = time.perf_counter() - started
    sender.close()
    return count / elapsed


def main(args):
    """Queue deliveries for the subscriptions, then time one worker draining them."""
    receiver = FastReceiver() if args.receiver == "fast" else ThreadedReceiver()
    url, drop = database_url(args.database)
    try:
        config = {"INSTANCE_PATH": tempfile.mkdtemp(), "LOG_LEVEL": args.log_level,
                  "DATABASE_URL": url}
        if args.batch:
            config["WEBHOOK_BATCH_SIZE"] = args.batch
        app = create_app(config)
        with app.app_context():
            tenant = Tenant.create(slug="bench", name="bench")
            issue_key(tenant, SCOPES)
            for _ in range(args.subscriptions):
                add_subscription(tenant, receiver.url)
            for number in range(args.events // args.subscriptions):
                fan_out(Event.create(tenant=tenant, event="lead.created",
                                     data={"id": str(number), "name": "x" * 200}))
        started = time.perf_counter()
        with app.app_context():
            run_worker(threading.Event(), once=True)
        elapsed = time.perf_counter() - started
        stats, count = receiver.stats(), args.events // args.subscriptions * args.subscriptions
        assert stats["received"] == count and stats["distinct"] == count // args.subscriptions, \
            stats
        bare = bare_rate(receiver.url) if args.receiver == "fast" else None
    finally:
        receiver.close()
        drop()
    print("| database | receiver | subscriptions | batch | deliveries | seconds | deliveries/s "
          "| connections | bare POST/s | cores |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.database} | {args.receiver} | {args.subscriptions} "
          f"| {app.config.get('WEBHOOK_BATCH_SIZE', 1)} "
          f"| {count} | {elapsed:.2f} | {count / elapsed:.0f} "
          f"| {stats['connections']} | {f'{bare:.0f}' if bare else '-'} | {os.cpu_count()} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--receiver", choices=["fast", "threaded"], default="fast")
    parser.add_argument("--batch", type=int, help="WEBHOOK_BATCH_SIZE (default: the app's)")
    parser.add_argument("--subscriptions", type=int, default=1)
    parser.add_argument("--log-level", default="WARNING",
                        help="LOG_LEVEL; INFO logs a line per delivery, as `make run` does")
    main(parser.parse_args())
