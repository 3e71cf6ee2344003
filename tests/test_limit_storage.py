"""memory:// counters swept once a second: the same limits, no thread started per dozen hits."""
import threading
import time

import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from vorel_lite import limitstorage
from vorel_lite.limitstorage import SweptMemoryStorage, storage_uri

# Longer than any test here takes: no sweep runs unless a test asks for one.
NEVER = 3600


@pytest.mark.parametrize("uri, expected", [
    ("memory://", "vorel+memory://"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis+sentinel://h:26379/mymaster", "redis+sentinel://h:26379/mymaster"),
    ("memcached://127.0.0.1:11211", "memcached://127.0.0.1:11211"),
])
def test_memory_uri_names_the_swept_storage_and_others_are_kept(uri, expected):
    assert storage_uri(uri) == expected


def test_the_apps_limiter_counts_in_the_swept_storage(app):
    assert type(app.extensions["vorel_limiter"].storage) is SweptMemoryStorage
    assert isinstance(storage_from_string("vorel+memory://"), MemoryStorage)


def test_the_apps_limiter_keeps_a_shared_storage(config):
    from vorel_lite import create_app

    app = create_app({**config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    assert not isinstance(app.extensions["vorel_limiter"].storage, MemoryStorage)
    app.extensions["vorel_db"].close_all()


def test_hits_within_the_sweep_interval_start_one_daemon_timer(monkeypatch):
    monkeypatch.setattr(limitstorage, "SWEEP_SECONDS", NEVER)
    storage = SweptMemoryStorage()
    storage.timer.join()  # the one limits starts on creation
    started = []
    real_start = threading.Timer.start
    monkeypatch.setattr(threading.Timer, "start",
                        lambda timer: started.append(timer) or real_start(timer))
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("1000 per minute")
    for _ in range(30):
        assert limiter.hit(limit, "key")
        time.sleep(0.002)  # limits' own timer (10 ms) would have ended and been replaced
    assert len(started) == 1
    assert started[0].daemon and started[0].interval == NEVER
    assert storage.timer is started[0] and storage.timer.is_alive()
    started[0].cancel()


def test_a_fixed_window_expires_on_read_without_a_sweep(monkeypatch):
    monkeypatch.setattr(limitstorage, "SWEEP_SECONDS", NEVER)
    storage = SweptMemoryStorage()
    storage.incr("key", expiry=0.2)
    storage.incr("key", expiry=0.2)
    assert storage.get("key") == 2
    time.sleep(0.5)
    assert storage.get("key") == 0
    assert storage.incr("key", expiry=60) == 1
    storage.timer.cancel()


def test_a_moving_window_slides_without_a_sweep(monkeypatch):
    monkeypatch.setattr(limitstorage, "SWEEP_SECONDS", NEVER)
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("2 per second")
    assert limiter.hit(limit, "key") and limiter.hit(limit, "key")
    assert not limiter.hit(limit, "key")
    time.sleep(1.5)
    assert limiter.hit(limit, "key")
    storage.timer.cancel()


def test_the_sweep_frees_expired_counters(monkeypatch):
    monkeypatch.setattr(limitstorage, "SWEEP_SECONDS", 0.05)
    storage = SweptMemoryStorage()
    for number in range(100):
        storage.incr(f"key-{number}", expiry=0.1)
    storage.acquire_entry("moving", limit=5, expiry=0.1)
    assert len(storage.storage) == 100 and storage.events["moving"]
    deadline = time.monotonic() + 10
    # Each sweep ends its timer; a later hit starts the next one.
    while set(storage.storage) != {"later"} and time.monotonic() < deadline:
        time.sleep(0.1)
        storage.incr("later", expiry=60)
    assert set(storage.storage) == {"later"}
    assert not storage.events.get("moving")
