"""Database lifecycle: the connection proxy, its configuration, and the schema upgrade."""
import contextlib
import logging
import os
import sqlite3
import threading
import uuid
import weakref

from flask import current_app
from peewee import DatabaseProxy, InterfaceError, OperationalError, SqliteDatabase
from playhouse.db_url import connect, parse
from playhouse.pool import PooledSqliteDatabase

from .context import app_extension
from .migrations import upgrade

log = logging.getLogger(__name__)


class AppDatabaseProxy(DatabaseProxy):
    """Resolve to the current app's database, so several apps can live in one process."""

    __slots__ = ("_latest",)

    @property
    def obj(self):
        return app_extension("vorel_db", self._latest)

    @obj.setter
    def obj(self, database):
        # Outside an app context (scripts, the factory itself) the latest database is used.
        self._latest = database

    def __setattr__(self, name, value):
        # peewee's Proxy allows only names in the class's own __slots__.
        object.__setattr__(self, name, value)

    def atomic(self, *args, **kwargs):
        """Return the current app's database's transaction (or savepoint) context."""
        # peewee's proxy version resolves the database ~16 times per transaction; the app
        # does not change inside one, so resolving it once is the same (20-45 us a write).
        return self.obj.atomic(*args, **kwargs)


db = AppDatabaseProxy()

# Seconds a new PostgreSQL connection may take (a ?connect_timeout= in the URL overrides it).
CONNECT_TIMEOUT = 5
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal"}


def init_app(app):
    """Bind the database proxy to the app's DATABASE_URL and close after use; touch nothing
    yet (upgrade_schema, once the app is built, upgrades the schema)."""
    url = app.config["DATABASE_URL"] or f"sqlite:///{app.instance_path}/vorel.db"
    database, keeper = open_database(url, app.config["DATABASE_BUSY_TIMEOUT"],
                                     app.config["DATABASE_POOL_SIZE"])
    app.extensions["vorel_db"] = database
    # An in-memory database lives only while one connection to it is open.
    app.extensions["vorel_db_keeper"] = keeper
    db.initialize(database)
    if not isinstance(database, SqliteDatabase):
        # Before every other hook (they read keys): a server may be away at start.
        app.before_request(upgrade_when_reachable)
    if hasattr(database, "close_all"):
        weakref.finalize(app, database.close_all)
    app.teardown_appcontext(close_connection)


def upgrade_schema(app):
    """Upgrade the app's schema: last in create_app, so that a start refused for any setting
    leaves the database as it was; a database server away waits for the first request."""
    database = app.extensions["vorel_db"]
    try:
        with database.connection_context():
            # Kept for `upgrade-db` to report what this process applied at start.
            app.extensions["vorel_schema_upgrade"] = upgrade(database)
    except (OperationalError, InterfaceError) as exc:
        if isinstance(database, SqliteDatabase):
            raise  # a file that cannot be opened is a mistake to show now, not an outage
        # A process (re)started while the database server is away must still start: gunicorn
        # stops altogether when a worker fails to boot. Requests answer 503 until it is back.
        log.warning("database unreachable at start (%s): the schema upgrade waits for the "
                    "first request that reaches it", type(exc).__name__)
        app.extensions["vorel_schema_pending"] = threading.Lock()
    finally:
        # Leave no open connection behind for a forking server (gunicorn --preload) to
        # share, nor after a refused upgrade; a pool's idle connections outlive requests.
        if hasattr(database, "close_all"):
            database.close_all()


def upgrade_when_reachable():
    """Upgrade the schema before the first request after a start without the database.

    While the database stays away, the upgrade's OperationalError answers the request 503.
    """
    pending = current_app.extensions.get("vorel_schema_pending")
    if pending is None:
        return
    with pending:
        if "vorel_schema_pending" in current_app.extensions:
            current_app.extensions["vorel_schema_upgrade"] = upgrade(db.obj)
            del current_app.extensions["vorel_schema_pending"]


def open_database(url, busy_timeout, pool_size=20):
    """Return a peewee database for url, plus the connection keeping an in-memory one alive.

    PostgreSQL is pooled (at most pool_size connections per process, each back in the pool
    at the end of a request), whether the URL says postgresql:// or postgresql+pool://.
    """
    if not url.startswith("sqlite"):
        scheme, _, rest = url.partition("://")
        if scheme in ("postgres", "postgresql"):
            url = f"postgresql+pool://{rest}"
        # A request finding the pool full waits for a connection as long as a SQLite writer
        # waits for the lock, then gets a 503.
        options = ({"max_connections": pool_size, "stale_timeout": 300, "timeout": busy_timeout}
                   if "+pool" in url else {})
        if "connect_timeout=" not in url:
            # A host that drops packets would otherwise hold a request for minutes.
            options["connect_timeout"] = CONNECT_TIMEOUT
        return connect(url, unquote_user=True, unquote_password=True, **options), None
    options = parse(url)
    path, keeper = options.pop("database"), None
    if path in ("", ":memory:"):
        # ":memory:" is private to one connection; the memdb VFS shares one in-memory
        # database between this process's connections (one per thread) with normal locking.
        path = f"file:/vorel-{uuid.uuid4().hex}?vfs=memdb"
        keeper = sqlite3.connect(path, uri=True, check_same_thread=False)
        options["uri"] = True
    elif not options.get("uri"):
        make_private(path)
    # Pooled: closing the last connection of a WAL database checkpoints it, which would
    # otherwise happen at the end of every request. A pooled connection serves one thread at
    # a time but not always the same one, hence check_same_thread=False.
    database = PooledSqliteDatabase(
        path, max_connections=64, stale_timeout=300, timeout=busy_timeout,
        pragmas={**SQLITE_PRAGMAS, "busy_timeout": busy_timeout * 1000},
        lock_type="IMMEDIATE", check_same_thread=False, **options)
    return database, keeper


def make_private(path):
    """Create the SQLite file readable by its owner alone (or make an existing one so).

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        if os.path.exists(name):
            os.chmod(name, 0o600)


def close_connection(exc=None):
    """Close this thread's connection at the end of a request or CLI command."""
    if not db.is_closed():
        db.close()


def constraint_guard():
    """Isolate a statement that may break a constraint, so its transaction outlives it."""
    # SQLite undoes only the failing statement; PostgreSQL aborts the whole transaction
    # unless the statement ran inside a savepoint (two more round trips per insert).
    return contextlib.nullcontext() if isinstance(db.obj, SqliteDatabase) else db.atomic()


def lock_for_update(query):
    """Lock the selected rows until commit where the database supports it."""
    # SQLite serialises writers with BEGIN IMMEDIATE, so it needs (and has) no FOR UPDATE.
    return query.for_update() if db.obj.for_update else query
