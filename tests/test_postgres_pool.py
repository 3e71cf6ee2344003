"""PostgreSQL connections: one pool per process, of DATABASE_POOL_SIZE, and no leaks."""
import threading
import uuid

import psycopg

from vorel_lite import create_app
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Tenant

POOL_SIZE = 4
THREADS = 8
REQUESTS_PER_THREAD = 1250  # 10,000 in all, as issue 13 asks


# The app's connections carry this name, so that a connection another test's app left for
# the garbage collector to close is not counted.
APPLICATION_NAME = f"vorel-pool-test-{uuid.uuid4().hex[:8]}"


def connections_to(postgres):
    """Return how many connections the test's app has open to the test database."""
    with psycopg.connect(postgres.url) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (postgres.name, APPLICATION_NAME)).fetchone()[0]


def test_10000_requests_from_many_threads_leak_no_connection(postgres, tmp_path):
    postgres.empty()
    app = create_app({"TESTING": True,
                      "DATABASE_URL": f"{postgres.url}?application_name={APPLICATION_NAME}",
                      "DATABASE_POOL_SIZE": POOL_SIZE, "RATELIMIT_PER_KEY": "100000 per minute",
                      "RATELIMIT_PER_TENANT": "100000 per minute",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        _, secret = issue_key(Tenant.create(slug="acme", name="acme"), SCOPES)
    auth = {"Authorization": f"Bearer {secret}"}
    statuses, peak = [], [0]

    def work(number):
        client = app.test_client()
        for index in range(REQUESTS_PER_THREAD):
            if index % 5 == 0:
                response = client.post("/api/v1/conversations", headers=auth, json={
                    "channel": "voice", "customer_identifier": f"+1{number}{index:06d}"})
            else:
                response = client.get("/api/v1/conversations?limit=5", headers=auth)
            statuses.append(response.status_code)
            if number == 0 and index % 50 == 0:  # one watcher: its own connection is not counted
                peak[0] = max(peak[0], connections_to(postgres))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    try:
        assert len(statuses) == THREADS * REQUESTS_PER_THREAD
        assert set(statuses) <= {200, 201}, sorted(set(statuses))
        assert 1 <= peak[0] <= POOL_SIZE and connections_to(postgres) <= POOL_SIZE
    finally:
        app.extensions["vorel_db"].close_all()
    assert connections_to(postgres) == 0
