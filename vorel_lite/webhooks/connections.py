"""A worker's idle libcurl handles, by target, so each receiver's connection is reused."""
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

from ..outbound import Sender


def target_of(url):
    """Return the (scheme, host, port) a URL connects to, or the URL itself if it has none."""
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname, parts.port
    except ValueError:
        return url


class SenderPool:
    """Senders lent out one at a time: a batch for a receiver gets the handle that last sent
    to it (and its open connection) if one is idle; at most `size` are kept idle."""

    def __init__(self, private_targets, agent, size):
        self.private_targets, self.agent, self.size = private_targets, agent, size
        self.idle = OrderedDict()  # (target, serial) -> Sender, least recently used first
        self.serial = 0
        self.lock = threading.Lock()

    def take(self, url):
        """Lend a Sender for url: one that last sent to its target, else any idle, else new."""
        target = target_of(url)
        with self.lock:
            key = next((k for k in reversed(self.idle) if k[0] == target), None)
            if key is None and len(self.idle) >= self.size:
                key = next(iter(self.idle))
            if key is not None:
                return self.idle.pop(key)
        return Sender(self.private_targets, self.agent)

    def give(self, url, sender):
        """Take a Sender back after a batch to url; close the least recently used beyond size."""
        with self.lock:
            self.serial += 1
            self.idle[(target_of(url), self.serial)] = sender
            surplus = [self.idle.popitem(last=False)[1]
                       for _ in range(len(self.idle) - self.size)]
        for extra in surplus:
            extra.close()

    def close(self):
        """Close every idle Sender and its connections."""
        with self.lock:
            senders, self.idle = list(self.idle.values()), OrderedDict()
        for sender in senders:
            sender.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
