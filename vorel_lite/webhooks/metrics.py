"""Webhook deliveries by status, counted at scrape time for GET /metrics (all tenants)."""
import logging

from peewee import DatabaseError, InterfaceError, fn
from playhouse.pool import MaxConnectionsExceeded
from prometheus_client.registry import Collector
from prometheus_client.core import GaugeMetricFamily

from ..models import DELIVERY_STATUSES, WebhookDelivery

log = logging.getLogger("vorel_lite.metrics")


def count_deliveries():
    """Return {status: count} of every tenant's webhook deliveries."""
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    rows = (WebhookDelivery
            .select(WebhookDelivery.status, fn.COUNT(WebhookDelivery.id))
            .group_by(WebhookDelivery.status)
            .tuples())
    counts.update((status, number) for status, number in rows if status in counts)
    return counts


def families(database_up, counts=None):
    """Build the gauges: whether the database answered and, if it did, deliveries by status."""
    up = GaugeMetricFamily("vorel_database_up",
                           "1 if the database answered this scrape's query, else 0.")
    up.add_metric([], 1 if database_up else 0)
    deliveries = GaugeMetricFamily("vorel_webhook_deliveries",
                                   "Webhook deliveries of every tenant, by status.",
                                   labels=["status"])
    for status, number in (counts or {}).items():
        deliveries.add_metric([status], number)
    return [up, deliveries] if database_up else [up]


class DeliveryCollector(Collector):
    """Ask the database at each scrape; a database that does not answer is reported, not raised."""

    def describe(self):
        return families(True)

    def collect(self):
        try:
            counts = count_deliveries()
        except (DatabaseError, InterfaceError, MaxConnectionsExceeded) as exc:
            log.warning("metrics: the database did not answer: %s", type(exc).__name__)
            return families(False)
        return families(True, counts)
