"""The delivery worker: claim due deliveries in batches, send them, record every attempt."""
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from flask import current_app

from ..db import db
from ..models import utc_now
from ..schemas.events import EventOut
from .claims import claim_due, renew_claim, sending_seconds  # noqa: F401 (the worker's API)
from .connections import SenderPool
from .recording import record_outcome, record_outcomes  # noqa: F401 (the worker's API)
from .secrets import decrypt_secret
from .sending import AGENT, Outcome, post_event

log = logging.getLogger("vorel_lite.webhooks")
envelope_schema = EventOut()


def attempt_delivery(delivery, sender=None, secret=None):
    """Send one claimed delivery and return the Outcome, whatever goes wrong on the way.

    secret: the subscription's, already decrypted (decrypted here when not given).
    """
    subscription = delivery.subscription
    try:
        secret = secret or decrypt_secret(subscription.encrypted_secret)
        return post_event(subscription.url, secret, envelope_schema.dump(delivery.event),
                          delivery.attempts, sender)
    except ValueError as exc:
        return Outcome(None, str(exc), 0)
    except Exception as exc:
        # Recorded on this delivery (retried, then dead-lettered) like any failed attempt.
        log.exception("webhook delivery=%s attempt failed unexpectedly", delivery.id)
        return Outcome(None, f"internal error: {type(exc).__name__}", 0)


def send_batch(app, batch, senders, send_by, stop):
    """Send one subscription's claimed deliveries in order, over one kept-alive connection,
    then record them all in one transaction; return how many attempts were made.

    A delivery is sent only before send_by (time.monotonic()) and while stop is not set; the
    rest are given back unsent.
    """
    with app.app_context():
        results = []
        try:
            url = batch[0].subscription.url
            sender = senders.take(url)
            try:
                secret = decrypt_secret(batch[0].subscription.encrypted_secret)
            except ValueError:
                secret = None  # each attempt then fails, and says why
            try:
                for delivery in batch:
                    if time.monotonic() > send_by or stop.is_set():
                        break
                    started_at = utc_now()
                    results.append((delivery, attempt_delivery(delivery, sender, secret),
                                    started_at))
            finally:
                senders.give(url, sender)
            record_outcomes(results, batch[len(results):])
        except Exception:
            # One batch's trouble (a database hiccup while recording it) never holds up the
            # others; its claims run out and its deliveries are tried again.
            log.exception("webhook deliveries %s could not be recorded",
                          ",".join(d.id for d in batch))
        finally:
            db.close()
        return len(results)


def by_subscription(deliveries):
    """Group claimed deliveries into one batch per subscription, each in its claimed order."""
    batches = {}
    for delivery in deliveries:
        batches.setdefault(delivery.subscription_id, []).append(delivery)
    return list(batches.values())


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
    is claimed again, so a slow receiver never holds up the others.
    """
    app = current_app._get_current_object()
    slots, size = app.config["WEBHOOK_CONCURRENCY"], app.config["WEBHOOK_BATCH_SIZE"]
    in_flight = {}
    # The threads end before their Senders are closed.
    with new_senders(app) as senders, \
            ThreadPoolExecutor(max_workers=slots, thread_name_prefix="webhook") as pool:
        while not stop.is_set():
            batches = []
            if len(in_flight) < slots:
                send_by = time.monotonic() + sending_seconds()
                try:
                    batches = by_subscription(
                        claim_due(slots - len(in_flight), frozenset(in_flight.values()), size))
                except Exception:
                    # A database hiccup must not kill the worker; claims' leases cover it.
                    log.exception("webhook delivery round failed")
                finally:
                    db.close()
            for batch in batches:
                future = pool.submit(send_batch, app, batch, senders, send_by, stop)
                in_flight[future] = batch[0].subscription_id
            if not in_flight:
                if once:
                    return
                stop.wait(app.config["WEBHOOK_POLL_SECONDS"])
                continue
            done, _ = wait(in_flight, timeout=app.config["WEBHOOK_POLL_SECONDS"],
                           return_when=FIRST_COMPLETED)
            for future in done:
                del in_flight[future]
