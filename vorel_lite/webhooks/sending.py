"""One signed POST of an event envelope to a receiver, and what came of it."""
import json
import time
from dataclasses import dataclass

from flask import current_app

from .. import outbound
from .secrets import sign, sign_standard

MAX_ERROR_TEXT = 500
# Added to the User-Agent of every delivery.
AGENT = "webhooks"


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

    @property
    def summary(self):
        """Say in one line what came of the POST, for an operator."""
        if self.delivered:
            return f"Delivered: HTTP {self.status_code} in {self.duration_ms} ms."
        return f"Not delivered: {self.error or f'HTTP {self.status_code}'}"


def encode_envelope(envelope):
    """Return the exact bytes sent, and signed, for an event envelope."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature_headers(secret, envelope, body, timestamp):
    """Return the headers that sign body: the hosted product's and Standard Webhooks'."""
    return {
        # The hosted product's: hex HMAC-SHA256 of the body, the secret's text as key.
        "X-Webhook-Signature": sign(secret, body),
        # Standard Webhooks (standardwebhooks.com): the id and time are signed too, so a
        # receiver can refuse a replayed or re-labelled delivery.
        "webhook-id": envelope["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard(secret, envelope["id"], timestamp, body),
    }


def post_event(url, secret, envelope, attempt, sender=None):
    """POST an envelope, signed with secret, and return the Outcome; never raises for the
    receiver's sake (whatever it answers or does, the Outcome says it).

    Within WEBHOOK_TIMEOUT_SECONDS for all of it; WEBHOOK_PRIVATE_TARGETS applies. sender:
    an outbound.Sender made with that setting, whose open connection may be reused; without
    one, a new connection is opened and closed.
    """
    body = encode_envelope(envelope)
    headers = {"Content-Type": "application/json",
               **signature_headers(secret, envelope, body, int(time.time())),
               "X-Webhook-Id": envelope["id"],
               "X-Webhook-Event": envelope["event"],
               "X-Webhook-Attempt": str(attempt)}
    config = current_app.config
    timeout = config["WEBHOOK_TIMEOUT_SECONDS"]
    if sender is None:
        answer = outbound.post(url, body, headers, timeout, agent=AGENT,
                               private_targets=config["WEBHOOK_PRIVATE_TARGETS"])
    else:
        answer = sender.post(url, body, headers, timeout)
    if answer.failure is not None:
        return Outcome(None, answer.error[:MAX_ERROR_TEXT], answer.duration_ms)
    error = None
    if not 200 <= answer.status < 300:
        error = f"HTTP {answer.status}: {outbound.excerpt(answer.body)}"
    return Outcome(answer.status, error, answer.duration_ms)
