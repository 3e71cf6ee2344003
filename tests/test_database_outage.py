"""PostgreSQL going away and coming back: 503 with Retry-After, nothing half-written, then
service again by itself. A TCP proxy between the app and the database stands for the network."""
from urllib.parse import urlsplit

import psycopg
import pytest

from helpers import assert_error
from tcp_proxy import TcpProxy
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
