"""One signed POST of an event envelope to a receiver, and what came of it."""
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib.metadata import version

from .secrets import sign

USER_AGENT = f"vorel-lite/{version('vorel-lite')} (webhooks)"
MAX_ERROR_TEXT = 500


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as the 3xx it is, and retried


# Receivers are reached directly: no proxy from the environment, no redirects followed.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


@dataclass
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self):
        """Tell whether the receiver took the event (any 2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def permanent(self):
        """Tell whether retrying cannot help: a 4xx other than 408 and 429."""
        return (self.status_code is not None and 400 <= self.status_code < 500
                and self.status_code not in (408, 429))


def encode_envelope(envelope):
    """Return the exact bytes sent, and signed, for an event envelope."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post_event(url, secret, envelope, attempt, timeout):
    """POST an envelope, signed with secret, and return the Outcome."""
    body = encode_envelope(envelope)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Signature": sign(secret, body),
        "X-Webhook-Id": envelope["id"],
        "X-Webhook-Event": envelope["event"],
        "X-Webhook-Attempt": str(attempt),
    })
    started = time.monotonic()
    status, error = None, None
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = f"HTTP {exc.code} {exc.reason}: {read_excerpt(exc)}".strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"timed out after {timeout} s" if "timed out" in str(reason) else str(reason)
    elapsed = int((time.monotonic() - started) * 1000)
    return Outcome(status, error[:MAX_ERROR_TEXT] if error else None, elapsed)


def read_excerpt(response):
    """Return the start of an error response's body, as text."""
    try:
        return response.read(MAX_ERROR_TEXT).decode("utf-8", "replace")
    except OSError:
        return ""
