"""A throw-away PostgreSQL database for the benchmarks, and its bulk rows (seed.py's twin).

The rows, their ids and timestamps are the ones seed.py gives a SQLite file, inserted by
INSERT ... SELECT over generate_series, so wrk_request.lua names them the same way.
seed_leads and seed_fresh_conversations take the database's URL where seed.py's take a path.
"""
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from seed import (BASE_EPOCH, CONVERSATION_PREFIX, EVENT_PREFIX, FRESH_PREFIX, LEAD_PREFIX,
                  lead_id)

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 5  # seconds
SETTINGS = ("fsync", "synchronous_commit", "shared_buffers", "max_connections")

# Rows n = start..stop-1 with their timestamp ts; %(base)s + n // %(step)s seconds after 1970.
NUMBERED = """(SELECT n, to_char(to_timestamp(%(base)s + n / %(step)s) AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS') || '.000000Z' AS ts
               FROM generate_series(%(start)s::bigint, %(stop)s - 1) AS n) AS numbered"""
HEX = "lpad(to_hex(n), 12, '0')"
PHONE = "'+9715' || lpad(n::text, greatest(8, length(n::text)), '0')"


def redacted(url):
    """Return url without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


def with_database(url, name):
    """Return url naming another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class ThrowAwayDatabase:
    """A database made for one run on the server at server_url, dropped by drop()."""

    def __init__(self, server_url):
        import psycopg

        self.psycopg = psycopg
        self.server_url = server_url
        self.name = f"vorel_bench_{uuid.uuid4().hex[:12]}"
        self.url = with_database(server_url, self.name)
        with psycopg.connect(server_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
            self.version = admin.execute("SHOW server_version").fetchone()[0]
            # What a commit costs depends on these; the document shows them.
            self.settings = {name: admin.execute(f"SHOW {name}").fetchone()[0]
                             for name in SETTINGS}
            admin.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        with self.psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def open_or_reason(server_url):
    """Return a ThrowAwayDatabase on server_url, or the reason there is none (a string)."""
    try:
        return ThrowAwayDatabase(server_url)
    except ImportError:
        return "no PostgreSQL driver: pip install '.[postgres]'"
    except Exception as exc:  # any failure to reach or use the server
        return f"no PostgreSQL at {redacted(server_url)}: {str(exc).strip().splitlines()[0]}"


def execute(url, *statements):
    """Run (sql, parameters) statements in one transaction, then VACUUM ANALYZE."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        with connection.transaction():
            for sql, parameters in statements:
                connection.execute(sql, parameters)
        # Autovacuum would analyze the new rows by itself within a minute, in the middle of
        # a measurement; do now what it would do.
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - began


def seed_leads(url, tenant_id, start, stop):
    """Insert leads number start..stop-1, their conversations and their lead.created events."""
    if stop <= start:
        return 0.0
    numbers = {"base": BASE_EPOCH, "step": 1, "start": start, "stop": stop, "tenant": tenant_id,
               "conversation": CONVERSATION_PREFIX, "lead": LEAD_PREFIX, "event": EVENT_PREFIX,
               "first": lead_id(start), "last": lead_id(stop)}
    conversations = f"""
        INSERT INTO conversations (id, tenant_id, channel, customer_identifier, customer_name,
                                   customer_language, status, created_at, first_message_at,
                                   last_message_at)
        SELECT %(conversation)s || {HEX}, %(tenant)s, 'whatsapp', {PHONE}, 'Customer ' || n,
               'en', 'active', ts, ts, ts
        FROM {NUMBERED}"""
    leads = f"""
        INSERT INTO leads (id, tenant_id, conversation_id, name, email, phone, intent, timeline,
                           qualification_score, status, source, attributes, created_at,
                           updated_at)
        SELECT %(lead)s || {HEX}, %(tenant)s, %(conversation)s || {HEX}, 'Lead ' || n,
               'lead' || n || '@example.com', {PHONE}, 'buy', '3 months', n %% 101,
               CASE n %% 5 WHEN 0 THEN 'new' WHEN 1 THEN 'qualified' WHEN 2 THEN 'booked'
                           WHEN 3 THEN 'converted' ELSE 'lost' END,
               'whatsapp', '{{"bedrooms":2,"budget_max":1500000,"area":"Marina"}}', ts, ts
        FROM {NUMBERED}"""
    # The event's data is the lead's representation, as the API records it.
    events = """
        INSERT INTO events (id, tenant_id, event, created_at, data)
        SELECT %(event)s || substr(id, 25), tenant_id, 'lead.created', created_at,
               jsonb_build_object('id', id, 'conversation_id', conversation_id, 'name', name,
                                  'email', email, 'phone', phone, 'intent', intent,
                                  'attributes', attributes::jsonb, 'timeline', timeline,
                                  'qualification_score', qualification_score,
                                  'status', status, 'source', source,
                                  'created_at', created_at, 'updated_at', updated_at)::text
        FROM leads
        WHERE id COLLATE "C" >= %(first)s AND id COLLATE "C" < %(last)s
          AND tenant_id = %(tenant)s"""
    return execute(url, (conversations, numbers), (leads, numbers), (events, numbers))


def seed_fresh_conversations(url, tenant_id, start, stop):
    """Insert conversations start..stop-1 of the pool that has no lead yet."""
    if stop <= start:
        return 0.0
    # Created just before the run, newer than every seeded lead.
    numbers = {"base": int(time.time()) - 3600, "step": 1000, "start": start, "stop": stop,
               "tenant": tenant_id, "fresh": FRESH_PREFIX}
    return execute(url, (f"""
        INSERT INTO conversations (id, tenant_id, channel, customer_identifier, status,
                                   created_at)
        SELECT %(fresh)s || {HEX}, %(tenant)s, 'webform', 'fresh-' || n || '@example.com',
               'active', ts
        FROM {NUMBERED}""", numbers))
