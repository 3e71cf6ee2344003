"""Active keys remembered for half a second per app and process: no database read per request
for a known key, while a revocation anywhere takes effect within a second everywhere."""
import threading
import time
from collections import OrderedDict

from .context import app_extension

# Seconds a key's row is trusted, counted from before it was read: a revocation committed
# elsewhere is seen by every process within this time, with room to spare under one second.
TRUSTED_FOR = 0.5
# Keys one app remembers at most; the least recently used one goes first.
MAX_KEYS = 4096


class KeyCache:
    """key_hash -> the row of an active key, each trusted for trusted_for seconds."""

    def __init__(self, trusted_for=TRUSTED_FOR, max_keys=MAX_KEYS, clock=time.monotonic):
        self.trusted_for = trusted_for
        self.max_keys = max_keys
        self.clock = clock
        self._rows = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key_hash, read):
        """Return the row of key_hash: the remembered one while trusted, else read(key_hash)."""
        started = self.clock()
        with self._lock:
            entry = self._rows.get(key_hash)
            if entry is not None and entry[1] > started:
                self._rows.move_to_end(key_hash)
                return entry[0]
        row = read(key_hash)
        with self._lock:
            if row is None:
                # Unknown or revoked keys are never remembered: a key created right after a
                # failed try must work at once.
                self._rows.pop(key_hash, None)
                return None
            self._rows[key_hash] = (row, started + self.trusted_for)
            self._rows.move_to_end(key_hash)
            while len(self._rows) > self.max_keys:
                self._rows.popitem(last=False)
        return row

    def __len__(self):
        return len(self._rows)

    def forget(self, key_hash):
        """Drop key_hash's row, e.g. once this process has revoked the key."""
        with self._lock:
            self._rows.pop(key_hash, None)


def init_app(app):
    """Give app its own key cache (several apps may share a process)."""
    app.extensions["vorel_key_cache"] = KeyCache()


def key_cache():
    """Return the current app's key cache, or None outside an app or before init_app."""
    return app_extension("vorel_key_cache")
