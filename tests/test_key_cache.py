"""Known keys cost no database read; a revocation still reaches every app within a second."""
import logging
import threading
import time

import pytest

from helpers import assert_error
from test_multiprocess import Gunicorn, provision
from vorel_lite import create_app
from vorel_lite.keycache import TRUSTED_FOR, KeyCache
from vorel_lite.keys import hash_key, revoke_key
from vorel_lite.models import ApiKey, Tenant

# Past the bound a revocation is promised within (one second), with room for a busy machine.
PAST_THE_BOUND = 1.5


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Reads:
    """A read function standing for the database: counts its calls, answers from rows."""

    def __init__(self, rows, clock=None, takes=0.0):
        self.rows, self.clock, self.takes, self.calls = rows, clock, takes, []

    def __call__(self, key_hash):
        self.calls.append(key_hash)
        if self.clock is not None:
            self.clock.now += self.takes
        return self.rows.get(key_hash)


def test_a_row_is_reused_while_trusted_then_read_again():
    clock, reads = Clock(), Reads({"k": "row"})
    cache = KeyCache(trusted_for=0.5, clock=clock)
    assert [cache.lookup("k", reads) for _ in range(3)] == ["row"] * 3
    assert len(reads.calls) == 1
    clock.now += 0.49
    assert cache.lookup("k", reads) == "row" and len(reads.calls) == 1
    clock.now += 0.02
    reads.rows["k"] = None  # revoked meanwhile
    assert cache.lookup("k", reads) is None and len(reads.calls) == 2


def test_trust_is_counted_from_before_the_read():
    clock = Clock()
    reads = Reads({"k": "row"}, clock, takes=0.4)  # a slow read
    cache = KeyCache(trusted_for=0.5, clock=clock)
    cache.lookup("k", reads)
    clock.now += 0.11  # 0.51 s after the read began, 0.11 s after it ended
    cache.lookup("k", reads)
    assert len(reads.calls) == 2


def test_unknown_keys_are_not_remembered():
    reads = Reads({})
    cache = KeyCache(clock=Clock())
    assert cache.lookup("k", reads) is None
    reads.rows["k"] = "row"  # created right after the failed try
    assert cache.lookup("k", reads) == "row"
    assert len(reads.calls) == 2


def test_the_least_recently_used_key_goes_first():
    reads = Reads({"a": 1, "b": 2, "c": 3})
    cache = KeyCache(max_keys=2, clock=Clock())
    for key in ("a", "b", "a", "c"):
        cache.lookup(key, reads)
    for key in ("a", "c"):
        cache.lookup(key, reads)
    assert reads.calls == ["a", "b", "c"]
    cache.lookup("b", reads)
    assert reads.calls[-1] == "b"


def test_threads_share_one_bounded_cache():
    reads = Reads({f"k{n}": n for n in range(64)})
    cache = KeyCache(max_keys=16)
    answers, barrier = [], threading.Barrier(8)

    def work(offset):
        barrier.wait(10)
        answers.extend(cache.lookup(f"k{(offset + n) % 64}", reads) == (offset + n) % 64
                       for n in range(500))

    threads = [threading.Thread(target=work, args=(n * 8,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 4000 and all(answers)
    assert len(cache) <= 16


class Statements(logging.Handler):
    """The SQL statements peewee runs while attached (it logs each at DEBUG)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sql = []

    def emit(self, record):
        if isinstance(record.msg, tuple):
            self.sql.append(record.msg[0])

    def __enter__(self):
        self.logger = logging.getLogger("peewee")
        self.level = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc_info):
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level)


def test_a_known_key_costs_no_database_read_nor_write(client, auth):
    assert client.get("/api/v1/leads", headers=auth).status_code == 200
    with Statements() as statements:
        assert client.get("/api/v1/leads", headers=auth).status_code == 200
    assert statements.sql, "the capture saw nothing"
    assert not [sql for sql in statements.sql if "api_keys" in sql]


def test_a_key_created_right_after_a_failed_try_works_at_once(app, client):
    secret = "vapk_live_" + "5" * 48
    headers = {"Authorization": f"Bearer {secret}"}
    assert_error(client.get("/api/v1/leads", headers=headers), 401, "unauthorized")
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        ApiKey.create(tenant=tenant, env="live", key_hash=hash_key(secret),
                      display_prefix=secret[:14], last4=secret[-4:], scopes="read")
    assert client.get("/api/v1/leads", headers=headers).status_code == 200


def test_a_revocation_reaches_another_app_on_the_database_past_the_bound(app, client, auth,
                                                                         config):
    other = create_app(config)
    try:
        other_client = other.test_client()
        assert client.get("/api/v1/leads", headers=auth).status_code == 200
        assert other_client.get("/api/v1/leads", headers=auth).status_code == 200
        with app.app_context():
            assert revoke_key(auth["Authorization"].split()[1]) is not None
        # The app that revoked the key forgets it at once.
        assert_error(client.get("/api/v1/leads", headers=auth), 401, "unauthorized")
        time.sleep(PAST_THE_BOUND)
        assert_error(other_client.get("/api/v1/leads", headers=auth), 401, "unauthorized")
    finally:
        other.extensions["vorel_db"].close_all()


def test_the_bound_leaves_room_under_a_second():
    assert 0 < TRUSTED_FOR < PAST_THE_BOUND - 0.5


@pytest.fixture
def two_servers(tmp_path, database_url):
    """Two gunicorn instances (one worker each: the worker that used a key is asked again)."""
    url, instance, key = provision(tmp_path, database_url)
    with Gunicorn(tmp_path, url, instance, 1, "a") as a, \
            Gunicorn(tmp_path, url, instance, 1, "b") as b:
        a.wait_until_serving(key)
        b.wait_until_serving(key)
        yield url, instance, key, a, b


def test_a_revocation_reaches_two_server_processes_past_the_bound(tmp_path, two_servers):
    url, instance, key, a, b = two_servers
    for server in (a, b):
        assert server.request("GET", "/api/v1/leads", key)[0] == 200
    revoker = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    try:
        with revoker.app_context():
            assert revoke_key(key) is not None
    finally:
        revoker.extensions["vorel_db"].close_all()
    time.sleep(PAST_THE_BOUND)
    for server in (a, b):
        status, body = server.request("GET", "/api/v1/leads", key)
        assert status == 401, body
    assert not a.problems() and not b.problems()
