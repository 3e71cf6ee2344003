"""Benchmark: deliveries per second one worker sustains against a local receiver.

Run: .venv/bin/python bench/webhook_delivery.py [EVENTS]. Prints one table; writes nothing.
"""
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from receiver import Receiver  # noqa: E402
from vorel_lite import create_app  # noqa: E402
from vorel_lite.keys import SCOPES, issue_key  # noqa: E402
from vorel_lite.models import Event, Tenant  # noqa: E402
from vorel_lite.webhooks.delivery import run_worker  # noqa: E402
from vorel_lite.webhooks.fanout import fan_out  # noqa: E402
from vorel_lite.webhooks.subscriptions import add_subscription  # noqa: E402


def main(count):
    """Queue count events for one subscription, then time a worker draining them."""
    receiver = Receiver()
    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "LOG_LEVEL": "WARNING"})
    with app.app_context():
        tenant = Tenant.create(slug="bench", name="bench")
        issue_key(tenant, SCOPES)
        add_subscription(tenant, receiver.url)
        for number in range(count):
            fan_out(Event.create(tenant=tenant, event="lead.created",
                                 data={"id": str(number), "name": "x" * 200}))
    workers = int(os.environ.get("WORKERS", "1"))
    started = time.perf_counter()
    threads = [threading.Thread(target=drain, args=(app,)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    receiver.close()
    assert len(receiver.received) == count, len(receiver.received)
    print(f"| worker threads | deliveries | seconds | deliveries/s | cores |\n"
          f"| --- | --- | --- | --- | --- |\n"
          f"| {workers} | {count} | {elapsed:.2f} | {count / elapsed:.0f} | {os.cpu_count()} |")


def drain(app):
    """Deliver until nothing is due."""
    with app.app_context():
        run_worker(threading.Event(), once=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
