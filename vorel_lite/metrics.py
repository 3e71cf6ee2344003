"""GET /metrics in Prometheus' format (no key, off unless METRICS_ENABLED): requests, limits."""
import os
import time

from flask import Blueprint, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

from .auth import public
from .webhooks.metrics import DeliveryCollector

bp = Blueprint("metrics", __name__)

# Label values must stay few: a client's made-up method or path never becomes one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def multiprocess_mode():
    """Tell whether prometheus_client shares metrics between processes through files."""
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


class RequestMetrics:
    """One app's request metrics, in its own registry unless shared through files."""

    def __init__(self):
        # Per app, so that several apps in one process (the tests) count apart; in
        # multiprocess mode the values live in files and a scrape gathers every worker's.
        self.registry = None if multiprocess_mode() else CollectorRegistry()
        self.requests = Counter(
            "vorel_http_requests", "HTTP requests answered, by operation, method and status.",
            ["operation", "method", "status"], registry=self.registry)
        self.duration = Histogram(
            "vorel_http_request_duration_seconds", "Seconds from a request's start to its answer.",
            ["operation"], registry=self.registry)
        self.refusals = Counter(
            "vorel_rate_limit_refusals", "Requests refused with a 429 by a rate limit.",
            ["operation"], registry=self.registry)
        if self.registry is not None:
            self.registry.register(DeliveryCollector())

    def scrape_registry(self):
        """Return the registry a scrape reads: this app's, or every worker's files."""
        if self.registry is not None:
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(DeliveryCollector())
        return registry


def operation_name():
    """Name the request's operation: its OpenAPI operationId, its endpoint, or 'unmatched'."""
    if request.url_rule is None:
        return UNMATCHED
    operation = getattr(current_app.view_functions.get(request.endpoint), "operation", None)
    return operation.operation_id if operation is not None else request.endpoint


def start_timer():
    """Note when the request started."""
    g.metrics_started_at = time.perf_counter()


def count_request(response):
    """Count the answered request and observe its duration."""
    recorded = current_app.extensions["vorel_metrics"]
    operation = operation_name()
    method = request.method if request.method in METHODS else "other"
    recorded.requests.labels(operation, method, str(response.status_code)).inc()
    started = g.get("metrics_started_at")
    if started is not None:
        recorded.duration.labels(operation).observe(time.perf_counter() - started)
    return response


def count_refusal(request_limit):
    """Count a request the rate limiter refused (the limiter's on_breach callback)."""
    recorded = current_app.extensions.get("vorel_metrics")
    if recorded is not None:
        recorded.refusals.labels(operation_name()).inc()


@bp.get("/metrics")
@public
def metrics():
    """Answer every metric in the format the scraper asks for (Prometheus text by default)."""
    encode, content_type = choose_encoder(request.headers.get("Accept"))
    registry = current_app.extensions["vorel_metrics"].scrape_registry()
    return encode(registry), 200, {"Content-Type": content_type}


def init_app(app):
    """Serve /metrics and count requests when METRICS_ENABLED; register before the limiter."""
    enabled = app.config["METRICS_ENABLED"]
    if enabled not in (True, False):  # 0 and 1 pass: JSON from VOREL_METRICS_ENABLED
        raise ValueError(f"METRICS_ENABLED must be true or false, not {enabled!r}.")
    if not enabled:
        return
    if multiprocess_mode() and not os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
        # Otherwise every request would fail writing its count, and every scrape too.
        raise ValueError("PROMETHEUS_MULTIPROC_DIR must name an existing (empty) directory.")
    app.extensions["vorel_metrics"] = RequestMetrics()
    app.before_request(start_timer)
    app.after_request(count_request)
    app.register_blueprint(bp)
