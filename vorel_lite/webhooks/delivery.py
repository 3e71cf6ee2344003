"""The delivery worker: claim due deliveries in batches, send them, record every attempt as
it goes."""
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from flask import current_app

from ..db import db
from ..models import utc_now
from ..schemas.events import EventOut
from .claims import (attempt_number, claim_due, renew_claim,  # noqa: F401 (the worker's API)
                     sending_seconds)
from .connections import SenderPool
from .recording import record_outcome, record_outcomes  # noqa: F401 (the worker's API)
from .secrets import decrypt_secret
from .sending import AGENT, Outcome, post_event

log = logging.getLogger("vorel_lite.webhooks")
envelope_schema = EventOut()
# A batch's attempts are recorded once WEBHOOK_RECORD_EVERY of them wait, or once the oldest
# waiting has waited this long: a worker killed mid-batch resends what it had not recorded, so
# a slow receiver's attempts are recorded about one at a time, a fast one's in groups.
RECORD_WITHIN_SECONDS = 0.05


def attempt_delivery(delivery, sender=None, secret=None):
    """Send one claimed delivery and return the Outcome, whatever goes wrong on the way.

    secret: the subscription's, already decrypted (decrypted here when not given).
    """
    subscription = delivery.subscription
    try:
        secret = secret or decrypt_secret(subscription.encrypted_secret)
        return post_event(subscription.url, secret, envelope_schema.dump(delivery.event),
                          attempt_number(delivery), sender)
    except ValueError as exc:
        return Outcome(None, str(exc), 0)
    except Exception as exc:
        # Recorded on this delivery (retried, then dead-lettered) like any failed attempt.
        log.exception("webhook delivery=%s attempt failed unexpectedly", delivery.id)
        return Outcome(None, f"internal error: {type(exc).__name__}", 0)


def send_batch(app, batch, senders, send_by, stop):
    """Send one subscription's claimed deliveries in order, over one kept-alive connection,
    recording their attempts in groups as it goes; return how many attempts were made.

    A delivery is sent only before send_by (time.monotonic()) and while stop is not set; the
    rest are given back unsent.
    """
    with app.app_context():
        sent, waiting = 0, []
        try:
            url = batch[0].subscription.url
            sender = senders.take(url)
            try:
                secret = decrypt_secret(batch[0].subscription.encrypted_secret)
            except ValueError:
                secret = None  # each attempt then fails, and says why
            group_size = app.config["WEBHOOK_RECORD_EVERY"]
            try:
                for delivery in batch:
                    if time.monotonic() > send_by or stop.is_set():
                        break
                    if not waiting:
                        oldest = time.monotonic()
                    started_at = utc_now()
                    waiting.append((delivery, attempt_delivery(delivery, sender, secret),
                                    started_at))
                    sent += 1
                    if (len(waiting) >= group_size
                            or time.monotonic() - oldest >= RECORD_WITHIN_SECONDS):
                        record_outcomes(waiting)
                        waiting = []
            finally:
                senders.give(url, sender)
            record_outcomes(waiting, batch[sent:])
        except Exception:
            # One batch's trouble (a database hiccup while recording it) never holds up the
            # others; the claims of what it did not record run out, and those deliveries are
            # sent again.
            log.exception("webhook deliveries %s could not be recorded",
                          ",".join(d.id for d in batch[sent - len(waiting):]))
        finally:
            db.close()
        return sent


def by_subscription(deliveries):
    """Group claimed deliveries into one batch per subscription, each in its claimed order."""
    batches = {}
    for delivery in deliveries:
        batches.setdefault(delivery.subscription_id, []).append(delivery)
    return list(batches.values())


def retaken(batch):
    """Tell whether a batch is a delivery retaken after its worker stopped holding it."""
    return batch[0].claims > 1


def new_senders(app):
    """Return a pool of Senders for one run of the worker."""
    return SenderPool(app.config["WEBHOOK_PRIVATE_TARGETS"], AGENT,
                      app.config["WEBHOOK_CONCURRENCY"])


def deliver_due(limit=None):
    """Claim what is due now and send it concurrently; return how many attempts were made."""
    app = current_app._get_current_object()
    limit = limit or app.config["WEBHOOK_CONCURRENCY"]
    send_by = time.monotonic() + sending_seconds()
    batches = by_subscription(claim_due(limit, batch=app.config["WEBHOOK_BATCH_SIZE"]))
    with new_senders(app) as senders, \
            ThreadPoolExecutor(max_workers=max(1, len(batches))) as pool:
        return sum(pool.map(lambda batch: send_batch(app, batch, senders, send_by,
                                                     threading.Event()), batches))


def run_worker(stop, once=False):
    """Deliver until stop is set (or, with once, until nothing is due or in flight).

    WEBHOOK_CONCURRENCY subscriptions are sent to at once, each by its own thread, a batch
    of up to WEBHOOK_BATCH_SIZE deliveries at a time; as soon as one batch ends, what is due
    is claimed again, so a slow receiver never holds up the others. A delivery a stopped
    worker left unrecorded is retaken only while no other such one is in flight here.
    """
    app = current_app._get_current_object()
    slots, size = app.config["WEBHOOK_CONCURRENCY"], app.config["WEBHOOK_BATCH_SIZE"]
    in_flight = {}  # future -> its batch
    # The threads end before their Senders are closed.
    with new_senders(app) as senders, \
            ThreadPoolExecutor(max_workers=slots, thread_name_prefix="webhook") as pool:
        while not stop.is_set():
            batches = []
            if len(in_flight) < slots:
                send_by = time.monotonic() + sending_seconds()
                try:
                    batches = by_subscription(claim_due(
                        slots - len(in_flight),
                        frozenset(batch[0].subscription_id for batch in in_flight.values()),
                        size, retake_lost=not any(retaken(b) for b in in_flight.values())))
                except Exception:
                    # A database hiccup must not kill the worker; claims' leases cover it.
                    log.exception("webhook delivery round failed")
                finally:
                    db.close()
            for batch in batches:
                future = pool.submit(send_batch, app, batch, senders, send_by, stop)
                in_flight[future] = batch
            if not in_flight:
                if once:
                    return
                stop.wait(app.config["WEBHOOK_POLL_SECONDS"])
                continue
            done, _ = wait(in_flight, timeout=app.config["WEBHOOK_POLL_SECONDS"],
                           return_when=FIRST_COMPLETED)
            for future in done:
                del in_flight[future]
