"""Database lifecycle: the connection proxy, its configuration, and the schema upgrade."""
import contextlib
import os
import sqlite3
import uuid
import weakref

from flask import current_app, has_app_context
from peewee import DatabaseProxy, SqliteDatabase
from playhouse.db_url import connect, parse
from playhouse.pool import PooledSqliteDatabase

from .migrations import upgrade


class AppDatabaseProxy(DatabaseProxy):
    """Resolve to the current app's database, so several apps can live in one process."""

    __slots__ = ("_latest",)

    @property
    def obj(self):
        if has_app_context():
            return current_app.extensions.get("vorel_db", self._latest)
        return self._latest

    @obj.setter
    def obj(self, database):
        # Outside an app context (scripts, the factory itself) the latest database is used.
        self._latest = database

    def __setattr__(self, name, value):
        # peewee's Proxy allows only names in the class's own __slots__.
        object.__setattr__(self, name, value)


db = AppDatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal"}


def init_app(app):
    """Bind the database proxy to the app's DATABASE_URL, upgrade its schema, close after use."""
    url = app.config["DATABASE_URL"] or f"sqlite:///{app.instance_path}/vorel.db"
    database, keeper = open_database(url, app.config["DATABASE_BUSY_TIMEOUT"],
                                     app.config["DATABASE_POOL_SIZE"])
    app.extensions["vorel_db"] = database
    # An in-memory database lives only while one connection to it is open.
    app.extensions["vorel_db_keeper"] = keeper
    db.initialize(database)
    try:
        with database.connection_context():
            # Kept for `upgrade-db` to report what this process applied at start.
            app.extensions["vorel_schema_upgrade"] = upgrade(database)
    finally:
        # Leave no open connection behind for a forking server (gunicorn --preload) to
        # share, nor after a refused upgrade; a pool's idle connections outlive requests.
        if hasattr(database, "close_all"):
            database.close_all()
    if hasattr(database, "close_all"):
        weakref.finalize(app, database.close_all)
    app.teardown_appcontext(close_connection)


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
