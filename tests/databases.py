"""The databases the tests run on: a SQLite file per test, a throw-away PostgreSQL one, Redis.

PostgreSQL: one database per test session, created and dropped here, emptied before each
test. `VOREL_TEST_DATABASE_URL` points at another server (default: the local one, user
postgres); without a server the PostgreSQL half is skipped, and pytest says why.
"""
import graphlib
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

# Read at import: the tests' autouse fixture hides every VOREL_* variable from the app.
SERVER_URL = os.environ.get("VOREL_TEST_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VOREL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redacted(url):
    """Return url without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


def with_database(url, name):
    """Return url naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class PostgresDatabase:
    """A throw-away database on the server at SERVER_URL."""

    def __init__(self):
        import psycopg
        self.psycopg = psycopg
        self.name = f"vorel_test_{uuid.uuid4().hex[:12]}"
        self.url = with_database(SERVER_URL, self.name)
        with psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')

    def empty(self):
        """Delete every row of every table (the schema stays), as a new database would be."""
        # DELETE, each table before those it refers to: a TRUNCATE of every table costs
        # about 0.2 s, and this runs before each of the suite's PostgreSQL tests. A new
        # database records the migrations applied, so that record stays.
        with self.psycopg.connect(self.url, autocommit=True) as connection:
            tables = {name for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'schema_migrations'")}
            referrers = {table: set() for table in tables}
            for referrer, referred in connection.execute(
                    "SELECT conrelid::regclass::text, confrelid::regclass::text "
                    "FROM pg_constraint WHERE contype = 'f' "
                    "AND connamespace = 'public'::regnamespace"):
                if referred in referrers and referrer != referred:
                    referrers[referred].add(referrer)
            with connection.transaction():
                for table in graphlib.TopologicalSorter(referrers).static_order():
                    connection.execute(f'DELETE FROM "{table}"')

    def drop(self):
        with self.psycopg.connect(SERVER_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def postgres_or_reason():
    """Return a PostgresDatabase, or the reason there is none (a string)."""
    try:
        return PostgresDatabase()
    except ImportError:
        return "no PostgreSQL driver: pip install '.[postgres]'"
    except Exception as exc:  # any failure to reach or use the server
        return f"no PostgreSQL at {redacted(SERVER_URL)}: {str(exc).strip().splitlines()[0]}"


def redis_or_reason():
    """Return REDIS_URL if a Redis server answers there, else the reason there is none."""
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # no driver, no server, no permission
        return f"no Redis at {redacted(REDIS_URL)}: {str(exc).strip().splitlines()[0]}"
    return None
