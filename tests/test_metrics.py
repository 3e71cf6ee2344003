"""GET /metrics: off by default; on, Prometheus' text format counting every answer exactly."""
from collections import Counter
from http.client import HTTPConnection

import pytest
from peewee import OperationalError
from prometheus_client.parser import text_string_to_metric_families

from helpers import assert_error
from processes import send_json
from test_multiprocess import HTTP_TIMEOUT, Gunicorn, provision
from vorel_lite import create_app
from vorel_lite.db import db
from vorel_lite.models import Tenant, WebhookDelivery
from vorel_lite.webhooks.subscriptions import add_subscription

LEADS = "/api/v1/leads"
NO_SUCH_LEAD = f"{LEADS}/00000000-0000-4000-8000-000000000000"
REQUESTS = "vorel_http_requests_total"
DURATION = "vorel_http_request_duration_seconds"
REFUSALS = "vorel_rate_limit_refusals_total"
SCRAPE = ("metrics.metrics", "GET", "200")  # the scrape before counts itself once answered


def scrape(client, **headers):
    """Return {(sample name, frozenset of labels): value} of one scrape of /metrics."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def samples(scraped, name, *labels):
    """Return {label values: value} of one sample name, keyed by the labels asked for."""
    found = {}
    for (sample, pairs), value in scraped.items():
        if sample == name:
            found[tuple(dict(pairs)[label] for label in labels)] = value
    return found


def moved(before, after, name, *labels):
    """Return how much each series of a counter moved between two scrapes (zeros left out)."""
    old, new = samples(before, name, *labels), samples(after, name, *labels)
    return Counter({key: value - old.get(key, 0) for key, value in new.items()
                    if value != old.get(key, 0)})


def test_metrics_are_off_by_default(client):
    assert_error(client.get("/metrics"), 404, "not_found")


def test_the_environment_turns_them_on(monkeypatch, config):
    monkeypatch.setenv("VOREL_METRICS_ENABLED", "true")
    assert create_app(config).test_client().get("/metrics").status_code == 200


@pytest.mark.parametrize("value", ["yes", "off", None, 2])
def test_a_setting_that_is_not_true_or_false_stops_start_up(config, value):
    with pytest.raises(ValueError, match="METRICS_ENABLED must be true or false"):
        create_app({**config, "METRICS_ENABLED": value})


def test_a_missing_multiprocess_directory_stops_start_up(config, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="PROMETHEUS_MULTIPROC_DIR must name an existing"):
        create_app({**config, "METRICS_ENABLED": True})


class TestSmallLimits:
    """METRICS_ENABLED, a key limit of 3 and an address's failures limit of 2 a minute."""

    @pytest.fixture
    def config(self, config):
        return {**config, "METRICS_ENABLED": True, "RATELIMIT_PER_KEY": "3 per minute",
                "RATELIMIT_AUTH_FAILURES": "2 per minute"}

    def test_counters_move_by_exactly_the_requests_made(self, client, auth, other_auth):
        before = scrape(client)
        statuses = [client.get(LEADS, headers=auth).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert client.get(NO_SUCH_LEAD, headers=other_auth).status_code == 404
        assert client.get(LEADS).status_code == 401
        assert client.get("/no/such/path/acme-7f3a").status_code == 404
        assert client.post("/healthz").status_code == 405
        assert client.open(LEADS, method="BREW").status_code == 405
        after = scrape(client)

        assert moved(before, after, REQUESTS, "operation", "method", "status") == {
            ("listLeads", "GET", "200"): 3, ("listLeads", "GET", "429"): 2,
            ("getLead", "GET", "404"): 1, ("listLeads", "GET", "401"): 1,
            ("unmatched", "GET", "404"): 1, ("unmatched", "POST", "405"): 1,
            ("unmatched", "other", "405"): 1, SCRAPE: 1}
        assert moved(before, after, REFUSALS, "operation") == {("listLeads",): 2}
        assert moved(before, after, f"{DURATION}_count", "operation") == {
            ("listLeads",): 6, ("getLead",): 1, ("unmatched",): 3, ("metrics.metrics",): 1}
        assert moved(before, after, f"{DURATION}_bucket", "operation", "le")[
            ("listLeads", "+Inf")] == 6
        assert samples(after, f"{DURATION}_sum", "operation")[("listLeads",)] > 0

    def test_a_failed_authentication_refused_by_its_limit_is_counted(self, client):
        bad = {"Authorization": "Bearer vapk_live_" + "0" * 48}
        before = scrape(client)
        assert [client.get(LEADS, headers=bad).status_code for _ in range(3)] == [401, 401, 429]
        after = scrape(client)
        assert moved(before, after, REQUESTS, "operation", "status") == {
            ("listLeads", "401"): 2, ("listLeads", "429"): 1, SCRAPE[::2]: 1}
        assert moved(before, after, REFUSALS, "operation") == {("listLeads",): 1}

    def test_metrics_need_no_key_and_are_not_rate_limited(self, client):
        bad = {"Authorization": "Bearer vapk_live_" + "0" * 48}
        assert [client.get(LEADS, headers=bad).status_code for _ in range(3)] == [401, 401, 429]
        for headers in ({}, bad) * 5:
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 200
            assert "X-RateLimit-Limit" not in response.headers
        counted = samples(scrape(client), REQUESTS, "operation", "status")
        assert counted[("metrics.metrics", "200")] == 10


class TestEnabled:
    """METRICS_ENABLED with the default limits."""

    @pytest.fixture
    def config(self, config):
        return {**config, "METRICS_ENABLED": True}

    def test_webhook_gauges_equal_the_rows_and_no_tenant_detail_shows(self, app, client, auth):
        url = "https://hooks.example.net/acme-private-path"
        with app.app_context():
            tenant = Tenant.get(Tenant.slug == "acme")
            _, secret = add_subscription(tenant, url)
        for number in range(6):
            assert client.post("/api/v1/conversations", headers=auth, json={
                "channel": "voice", "customer_identifier": f"+9715000000{number}"}
            ).status_code == 201
        with app.app_context():
            ids = [row.id for row in WebhookDelivery.select().order_by(WebhookDelivery.id)]
            assert len(ids) == 6
            for delivery_id, status in zip(ids, ["delivered"] * 3 + ["dead"] * 2):
                WebhookDelivery.update(status=status).where(
                    WebhookDelivery.id == delivery_id).execute()

        response = client.get("/metrics")
        scraped = scrape(client)
        assert samples(scraped, "vorel_webhook_deliveries", "status") == {
            ("pending",): 1, ("delivered",): 3, ("dead",): 2}
        assert samples(scraped, "vorel_database_up") == {(): 1}
        text = response.get_data(as_text=True)
        key = auth["Authorization"].split()[1]
        for private in (tenant.id, "acme", key, key[:16], url, "hooks.example.net", secret,
                        *ids):
            assert private not in text

    def test_a_database_that_does_not_answer_leaves_metrics_answering(self, client,
                                                                      monkeypatch):
        def unreachable(*args, **kwargs):
            raise OperationalError("connection refused")
        monkeypatch.setattr(type(db.obj), "execute_sql", unreachable)
        assert client.get("/healthz").status_code == 503
        scraped = scrape(client)
        assert samples(scraped, "vorel_database_up") == {(): 0}
        assert not samples(scraped, "vorel_webhook_deliveries", "status")
        assert samples(scraped, REQUESTS, "operation", "status") == {("health.healthz", "503"): 1}

    def test_openmetrics_when_the_scraper_asks_for_it(self, client):
        response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert response.content_type.startswith("application/openmetrics-text")
        assert response.get_data(as_text=True).endswith("# EOF\n")

    def test_two_apps_in_one_process_count_apart(self, client, config, tmp_path):
        other = create_app({**config, "INSTANCE_PATH": str(tmp_path / "other")})
        try:
            other_client = other.test_client()
            for _ in range(3):
                client.get("/healthz")
            other_client.get("/healthz")
            mine = samples(scrape(client), REQUESTS, "operation")
            theirs = samples(scrape(other_client), REQUESTS, "operation")
        finally:
            other.extensions["vorel_db"].close_all()
        assert mine[("health.healthz",)] == 3
        assert theirs[("health.healthz",)] == 1


def test_gunicorn_workers_in_multiprocess_mode_add_up(tmp_path, monkeypatch):
    requests = 40
    database, instance, key = provision(tmp_path)
    directory = tmp_path / "prometheus"
    directory.mkdir()
    with monkeypatch.context() as environment:  # for gunicorn alone, not this process
        environment.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
        server = Gunicorn(tmp_path, database, instance, workers=2,
                          settings={"METRICS_ENABLED": "true"})
    with server:
        server.wait_until_serving(key)

        def scrape_server():
            connection = HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT)
            status, _, text = send_json(connection, "GET", "/metrics", {})
            assert status == 200, text
            return {(sample.name, frozenset(sample.labels.items())): sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples}

        before = scrape_server()
        # A sync worker serves one connection at a time: while the one that accepted `held`
        # waits for its request, the other worker answers all the rest.
        held = server.connect()
        statuses = [server.request("GET", "/api/v1/conversations?limit=1", key)[0]
                    for _ in range(requests - 1)]
        statuses.append(server.request("GET", "/api/v1/conversations?limit=1", key, None,
                                       held)[0])
        assert statuses == [200] * requests
        for after in (scrape_server(), scrape_server()):
            assert moved(before, after, REQUESTS, "operation", "status")[
                ("listConversations", "200")] == requests
            assert moved(before, after, f"{DURATION}_count", "operation")[
                ("listConversations",)] == requests
            assert samples(after, "vorel_database_up") == {(): 1}
        workers = {path.stem.rpartition("_")[2] for path in directory.glob("counter_*.db")}
        assert len(workers) == 2, sorted(directory.iterdir())
        assert not server.problems(), "\n".join(server.problems()[:20])
