"""Databases for the benchmarks: the schema and keys through the app, the bulk rows in SQL.

Rows are inserted with sqlite3 directly, by INSERT ... SELECT over a recursive CTE, in the
shape schema.sql gives them: a million leads (with their conversations and their
lead.created events) take well under a minute, where the API would take hours. Ids are
canonical UUID text built from the row's number, so both this module and wrk_request.lua
can name any seeded row without a list of ids:

    conversations with a lead  10000000-0000-4000-8000-<12 hex digits of n>
    leads                      20000000-0000-4000-8000-<n>
    conversations without one  30000000-0000-4000-8000-<n>  (the "fresh" pool for creates)
    lead.created events        40000000-0000-4000-8000-<n>
    offerings                  50000000-0000-4000-8000-<n>  (OFFERINGS of them, at provision)
    appointments               60000000-0000-4000-8000-<n>  (APPOINTMENTS, at provision)

Lead n and its conversation were created n seconds after BASE_EPOCH, long before the run,
so leads created by the benchmark itself are the newest.
"""
import os
import sqlite3
import time

import crm_stub

CONVERSATION_PREFIX = "10000000-0000-4000-8000-"
LEAD_PREFIX = "20000000-0000-4000-8000-"
FRESH_PREFIX = "30000000-0000-4000-8000-"
EVENT_PREFIX = "40000000-0000-4000-8000-"
OFFERING_PREFIX = "50000000-0000-4000-8000-"
# A catalog is small next to the leads: reads and updates of offerings rotate over these.
OFFERINGS = 100
APPOINTMENT_PREFIX = "60000000-0000-4000-8000-"
# Reads and updates of appointments rotate over these.
APPOINTMENTS = 100
BASE_EPOCH = 1_700_000_000  # 2023-11-14: lead n is BASE_EPOCH + n seconds old
# The deep page's cursor: this many leads are older than it, so the page is 25 of the oldest.
DEEP_CURSOR_INDEX = 50
UNLIMITED = "100000000 per minute"  # rate limits out of the way: the limiter is still run

SCOPES = ("read", "conversations:write", "leads:write", "offerings:write",
          "appointments:write", "crm:write")


def conversation_id(n):
    return f"{CONVERSATION_PREFIX}{n:012x}"


def lead_id(n):
    return f"{LEAD_PREFIX}{n:012x}"


def offering_id(n):
    return f"{OFFERING_PREFIX}{n:012x}"


def appointment_id(n):
    return f"{APPOINTMENT_PREFIX}{n:012x}"


def fresh_conversation_id(n):
    return f"{FRESH_PREFIX}{n:012x}"


def database_url(database):
    """The URL of a database given as a SQLite file's path or already as a URL."""
    return database if "://" in str(database) else f"sqlite:///{database}"


def app_config(database, instance):
    """The settings of every app the benchmarks run, in-process or under gunicorn."""
    return {"DATABASE_URL": database_url(database), "INSTANCE_PATH": str(instance),
            "RATELIMIT_PER_KEY": UNLIMITED, "RATELIMIT_PER_TENANT": UNLIMITED}


def provision(database, instance, keys):
    """Create the schema, a tenant, its OFFERINGS offerings, APPOINTMENTS appointments, a CRM
    connection (to a stub served by this process) and `keys` API keys through the app;
    return (tenant, keys). database: a SQLite file's path, or a database URL."""
    from vorel_lite import create_app
    from vorel_lite.crm.connection import connect as connect_crm
    from vorel_lite.keys import issue_key
    from vorel_lite.models import Appointment, Offering, Tenant

    app = create_app(app_config(database, instance))
    with app.app_context():
        tenant = Tenant.create(slug="bench", name="Bench Realty")
        secrets = [issue_key(tenant, SCOPES, name=f"bench-{n}")[1] for n in range(keys)]
        Offering.insert_many([
            {"id": offering_id(n), "tenant": tenant.id, "title": f"Offering {n}",
             "price": f"{1_000_000 + n}.5", "photos": [f"https://example.com/{n}.jpg"],
             "attributes": {"bedrooms": 2}} for n in range(OFFERINGS)]).execute()
        # Every CRM push of the run makes its real POST, to a stub in this process.
        connect_crm(tenant, crm_stub.start(), {"email": "Email"})
        Appointment.insert_many([
            {"id": appointment_id(n), "tenant": tenant.id, "customer_name": f"Customer {n}",
             "customer_phone": "+971500000000",
             "scheduled_start": f"2030-03-01T{n % 24:02d}:00:00.000000Z",
             "scheduled_end": f"2030-03-01T{n % 24:02d}:30:00.000000Z"}
            for n in range(APPOINTMENTS)]).execute()
    app.extensions["vorel_db"].close_all()
    return tenant.id, secrets


def connect(database):
    """A sqlite3 connection for bulk loading: durability off (a crash only loses the seed)."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -1048576")  # 1 GiB
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


# Rows n = start..stop-1 with their timestamp ts, computed once per row (strftime is slow).
SEQUENCE = """WITH RECURSIVE seq(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?),
    numbered AS MATERIALIZED (
        SELECT n, strftime('%Y-%m-%dT%H:%M:%S', ? + n / ?, 'unixepoch') || '.000000Z' AS ts
        FROM seq)"""


def seed_leads(database, tenant_id, start, stop, events=True):
    """Insert leads number start..stop-1, their conversations and (optionally) their events."""
    if stop <= start:
        return 0.0
    began = time.perf_counter()
    connection = connect(database)
    try:
        connection.execute("BEGIN")
        connection.execute(f"""{SEQUENCE}
            INSERT INTO conversations (id, tenant_id, channel, customer_identifier, customer_name,
                                       customer_language, status, created_at, first_message_at,
                                       last_message_at)
            SELECT printf('%s%012x', ?, n), ?, 'whatsapp', printf('+9715%08d', n),
                   'Customer ' || n, 'en', 'active', ts, ts, ts
            FROM numbered""", (start, stop, BASE_EPOCH, 1, CONVERSATION_PREFIX, tenant_id))
        connection.execute(f"""{SEQUENCE}
            INSERT INTO leads (id, tenant_id, conversation_id, name, email, phone, intent,
                               timeline, qualification_score, status, source, attributes,
                               created_at, updated_at)
            SELECT printf('%s%012x', ?, n), ?, printf('%s%012x', ?, n), 'Lead ' || n,
                   'lead' || n || '@example.com', printf('+9715%08d', n), 'buy', '3 months',
                   n % 101,
                   CASE n % 5 WHEN 0 THEN 'new' WHEN 1 THEN 'qualified' WHEN 2 THEN 'booked'
                              WHEN 3 THEN 'converted' ELSE 'lost' END,
                   'whatsapp', '{{"bedrooms":2,"budget_max":1500000,"area":"Marina"}}',
                   ts, ts
            FROM numbered""",
                           (start, stop, BASE_EPOCH, 1, LEAD_PREFIX, tenant_id,
                            CONVERSATION_PREFIX))
        if events:
            # The event's data is the lead's representation, as the API records it.
            connection.execute(f"""
                INSERT INTO events (id, tenant_id, event, created_at, data)
                SELECT '{EVENT_PREFIX}' || substr(id, 25), tenant_id, 'lead.created',
                       created_at,
                       json_object('id', id, 'conversation_id', conversation_id, 'name', name,
                                   'email', email, 'phone', phone, 'intent', intent,
                                   'attributes', json(attributes), 'timeline', timeline,
                                   'qualification_score', qualification_score,
                                   'status', status, 'source', source,
                                   'created_at', created_at, 'updated_at', updated_at)
                FROM leads WHERE id >= ? AND id < ? AND tenant_id = ?""",
                               (lead_id(start), lead_id(stop), tenant_id))
        connection.execute("COMMIT")
        # No ANALYZE: the app never runs it, so the planner works without statistics here too.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return time.perf_counter() - began


def seed_fresh_conversations(database, tenant_id, start, stop):
    """Insert conversations start..stop-1 of the pool that has no lead yet."""
    if stop <= start:
        return 0.0
    began = time.perf_counter()
    # Created just before the run, newer than every seeded lead.
    epoch = int(time.time()) - 3600
    connection = connect(database)
    try:
        connection.execute("BEGIN")
        connection.execute(f"""{SEQUENCE}
            INSERT INTO conversations (id, tenant_id, channel, customer_identifier, status,
                                       created_at)
            SELECT printf('%s%012x', ?, n), ?, 'webform', printf('fresh-%d@example.com', n),
                   'active', ts
            FROM numbered""", (start, stop, epoch, 1000, FRESH_PREFIX, tenant_id))
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return time.perf_counter() - began


def count(database, table):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def size_mb(database):
    return sum(os.path.getsize(p) for p in (database, f"{database}-wal")
               if os.path.exists(p)) / 1e6
