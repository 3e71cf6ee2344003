"""PostgreSQL going away and coming back: 503 with Retry-After, nothing half-written, then
service again by itself. A TCP proxy between the app and the database stands for the network."""
import os
import signal
import subprocess
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from databases import postgres_or_reason
from helpers import assert_error
from services import skip_or_fail
from tcp_proxy import TcpProxy
from test_multiprocess import Gunicorn, provision
from vorel_lite import create_app
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Tenant

BODY = {"channel": "voice", "customer_identifier": "+971500000001"}


@pytest.fixture
def proxied(postgres, tmp_path):
    """An app on the session's PostgreSQL database, reached through a TcpProxy."""
    postgres.empty()
    target = urlsplit(postgres.url)
    proxy = TcpProxy(target.hostname, target.port or 5432)
    url = target._replace(netloc=target.netloc.replace(
        f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}")).geturl()
    app = create_app({"TESTING": True, "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        _, secret = issue_key(Tenant.create(slug="acme", name="acme"), SCOPES)
    yield app, proxy, {"Authorization": f"Bearer {secret}"}
    app.extensions["vorel_db"].close_all()
    proxy.close()


def count(postgres, table):
    with psycopg.connect(postgres.url) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_an_outage_is_503_with_retry_after_and_service_resumes_by_itself(proxied, postgres):
    app, proxy, auth = proxied
    client = app.test_client()
    assert client.post("/api/v1/conversations", headers=auth, json=BODY).status_code == 201
    proxy.cut()
    second = {**BODY, "customer_identifier": "+971500000002"}
    for response in (client.post("/api/v1/conversations", headers=auth, json=second),
                     client.get("/api/v1/conversations", headers=auth),
                     client.post("/api/v1/conversations", headers=auth, json=BODY)):
        error = assert_error(response, 503, "internal_error")
        assert response.headers["Retry-After"] == "5" and "unavailable" in error["message"]
    assert client.get("/healthz").status_code == 503
    proxy.restore()
    created = client.post("/api/v1/conversations", headers=auth,
                          json={**BODY, "customer_identifier": "+971500000003"})
    assert created.status_code == 201, created.get_json()
    assert client.get("/healthz").status_code == 200
    # Nothing half-written: two conversations, each with its event.
    assert count(postgres, "conversations") == 2 and count(postgres, "events") == 2


def test_every_operation_documents_the_503(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security") != []:
                assert "503" in operation["responses"], (method, path)


def proxied_url(url, proxy):
    """Return url reaching its database through proxy."""
    target = urlsplit(url)
    return target._replace(netloc=target.netloc.replace(
        f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}")).geturl()


@pytest.fixture
def new_database():
    """A PostgreSQL database of its own, without any table yet (or a skip)."""
    database = postgres_or_reason()
    if isinstance(database, str):
        skip_or_fail(database)
    yield database
    database.drop()


def test_an_app_started_while_the_database_is_away_starts_and_upgrades_when_it_returns(
        new_database, tmp_path, caplog):
    target = urlsplit(new_database.url)
    proxy = TcpProxy(target.hostname, target.port or 5432)
    proxy.cut()
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": proxied_url(new_database.url, proxy),
                          "INSTANCE_PATH": str(tmp_path / "instance")})
        assert "database unreachable at start" in caplog.text
        client = app.test_client()
        error = assert_error(client.get("/api/v1/conversations",
                                        headers={"Authorization": "Bearer x"}), 503,
                             "internal_error")
        assert "unavailable" in error["message"]
        assert client.get("/healthz").status_code == 503
        proxy.restore()
        # The first request that reaches the database creates the schema, then runs.
        assert client.get("/healthz").status_code == 200
        with app.app_context():
            _, secret = issue_key(Tenant.create(slug="acme", name="acme"), SCOPES)
        created = client.post("/api/v1/conversations", json=BODY,
                              headers={"Authorization": f"Bearer {secret}"})
        assert created.status_code == 201, created.get_json()
        assert count(new_database, "schema_migrations") >= 1
        app.extensions["vorel_db"].close_all()
    finally:
        proxy.close()


def test_a_gunicorn_worker_restarted_during_an_outage_boots_and_serves_after_it(
        postgres, tmp_path):
    postgres.empty()
    target = urlsplit(postgres.url)
    proxy = TcpProxy(target.hostname, target.port or 5432)
    url, instance, key = provision(tmp_path, proxied_url(postgres.url, proxy))
    try:
        with Gunicorn(tmp_path, url, instance, workers=2) as server:
            server.wait_until_serving(key)
            proxy.cut()
            workers = subprocess.run(["pgrep", "-P", str(server.process.pid)],
                                     capture_output=True, text=True).stdout.split()
            assert len(workers) == 2, server.log()
            os.kill(int(workers[0]), signal.SIGKILL)
            deadline = time.monotonic() + 60
            while server.log_path.read_text(errors="replace").count("Booting worker") < 3:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            # Give the new worker time to try its schema check against the cut database.
            deadline = time.monotonic() + 60
            while "database unreachable at start" not in server.log_path.read_text(
                    errors="replace"):
                assert server.process.poll() is None, server.log()
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            proxy.restore()
            for index in range(8):  # both workers, whichever takes each connection
                status, body = server.request("POST", "/api/v1/conversations", key, {
                    **BODY, "customer_identifier": f"+97150000010{index}"})
                assert status == 201, (body, server.log())
            assert server.process.poll() is None, server.log()
            assert "Worker failed to boot" not in server.log_path.read_text(errors="replace")
    finally:
        proxy.close()
