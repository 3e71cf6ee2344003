"""memory:// rate-limit counters swept of expired entries once a second, not every 10 ms.

limits' MemoryStorage starts a threading.Timer thread to sweep expired counters whenever the
previous one (10 ms) has ended: once every dozen requests under load, and Thread.start() waits
until the new thread runs, which on a busy machine was the largest part of a counted request.
The sweep only frees memory: each read of a counter checks its expiry itself, and a moving
window counts its entries by time. The schedule is a private (name-mangled) method of limits:
setup.cfg pins limits to 5.8.x, and tests/test_limit_storage.py checks what is relied on.
"""
import threading
import urllib.parse

from limits.storage import MemoryStorage

SCHEME = "vorel+memory"
# Seconds between two sweeps at most; an expired counter is freed at the first after it.
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """limits' MemoryStorage, sweeping expired counters at most once per SWEEP_SECONDS."""

    STORAGE_SCHEME = [SCHEME]

    def _MemoryStorage__schedule_expiry(self):
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            # A pending sweep must not hold up the process's exit.
            self.timer.daemon = True
            self.timer.start()


def storage_uri(uri):
    """Return the storage URI to give the limiter: memory:// becomes the swept storage."""
    if urllib.parse.urlparse(uri).scheme == "memory":
        return SCHEME + uri.removeprefix("memory")
    return uri
