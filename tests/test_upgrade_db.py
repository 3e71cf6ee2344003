"""`flask upgrade-db`: a database of the previous schema, rows in it, reaches the current one."""
import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from peewee import DatabaseError, PostgresqlDatabase

import vorel_lite.migrations
from vorel_lite import create_app
from vorel_lite.db import open_database
from vorel_lite.keys import SCOPES, hash_key
from vorel_lite.migrations import HISTORY_TABLE, Migration, SchemaTooNew, run_script, upgrade

ROOT = Path(__file__).resolve().parent.parent
PREVIOUS_SCHEMA = Path(__file__).parent / "schemas" / "previous.sql"  # 78caee0's schema.sql
SECRET = "vapk_live_" + "5eed" * 12
T0 = "2025-01-02T03:04:05.000000Z"
T1 = "2025-01-02T03:05:00.000000Z"


def uid(n):
    """Return the nth seeded row's id (canonical UUID text, as the API expects)."""
    return f"00000000-0000-4000-8000-{n:012d}"


TENANT, CONVERSATION, LEAD, EVENT, SUBSCRIPTION, DELIVERY = (uid(n) for n in range(1, 7))
SEED = {
    "tenants": [{"id": TENANT, "slug": "acme", "name": "Acme", "created_at": T0}],
    "api_keys": [{"id": uid(7), "tenant_id": TENANT, "name": "crm", "env": "live",
                  "key_hash": hash_key(SECRET), "display_prefix": "vapk_live_5eed",
                  "last4": "5eed", "scopes": " ".join(SCOPES), "created_at": T0,
                  "last_used_at": None, "revoked_at": None}],
    "conversations": [{"id": CONVERSATION, "tenant_id": TENANT, "channel": "whatsapp",
                       "customer_identifier": "+971500000001", "customer_name": "Layla",
                       "customer_language": "en", "status": "active", "created_at": T0,
                       "first_message_at": T1, "last_message_at": T1}],
    "leads": [{"id": LEAD, "tenant_id": TENANT, "conversation_id": CONVERSATION,
               "name": "Layla", "email": "layla@example.com", "phone": "+971500000001",
               "intent": "buy", "timeline": "3m", "qualification_score": 80,
               "status": "qualified", "source": "web", "attributes": '{"budget":1850000}',
               "created_at": T0, "updated_at": T1}],
    "messages": [{"id": uid(8), "tenant_id": TENANT, "conversation_id": CONVERSATION,
                  "sequence_number": 1, "direction": "inbound", "text": "Is the flat free?",
                  "language": "en", "sent_at": T1}],
    "handoffs": [{"id": uid(9), "tenant_id": TENANT, "lead_id": LEAD,
                  "conversation_id": CONVERSATION, "reason": "asks for a viewing",
                  "summary": "wants Sunday", "notified_channel": "email", "created_at": T1}],
    "events": [{"id": EVENT, "tenant_id": TENANT, "event": "lead.created", "created_at": T0,
                "data": f'{{"id":"{LEAD}"}}'}],
    "idempotency_keys": [{"id": uid(10), "tenant_id": TENANT, "idempotency_key": "retry-1",
                          "fingerprint": "f" * 64, "status_code": 201,
                          "response_body": f'{{"id":"{LEAD}"}}', "created_at": T0}],
    "webhook_subscriptions": [{"id": SUBSCRIPTION, "tenant_id": TENANT,
                               "url": "https://example.com/hook", "events": "lead.created",
                               "description": None, "encrypted_secret": "opaque",
                               "secret_prefix": "whsec_ab", "created_at": T0}],
    "webhook_deliveries": [{"id": DELIVERY, "subscription_id": SUBSCRIPTION, "event_id": EVENT,
                            "status": "delivered", "attempts": 1, "attempts_at_redrive": 0,
                            "next_attempt_at": T0, "claimed_until": None, "claim_token": None,
                            "last_status_code": 200, "last_error": None, "created_at": T0,
                            "finished_at": T1}],
    "webhook_attempts": [{"id": uid(11), "delivery_id": DELIVERY, "attempt": 1,
                          "started_at": T0, "duration_ms": 12, "status_code": 200,
                          "error": None}],
}
FIRST = "0001_appointments_offerings_crm"
MIGRATIONS = (FIRST, "0002_operators", "0003_operator_sessions", "0004_webhook_claims",
              "0005_console_indexes")
# Columns the migrations add to SEED's tables, at the end of each row, with their defaults.
ADDED = {"webhook_deliveries": (0,)}  # claims (0004)
LATEST = len(MIGRATIONS)
# What upgrading a previous-schema database prints, and then records.
APPLIED = "".join(f"Applied {name}.\n" for name in MIGRATIONS)
RECORDED = [(version, name) for version, name in enumerate(MIGRATIONS, 1)]


def drop_all_tables(database):
    """Leave the database without tables (the PostgreSQL fixture only empties them)."""
    tables = database.get_tables()
    if tables:
        database.execute_sql("DROP TABLE " + ", ".join(tables) + " CASCADE")


def build_previous(url):
    """Make the database at url one of the previous schema, with SEED's rows in it."""
    database, _ = open_database(url, 5)
    with database.connection_context(), database.atomic():
        if isinstance(database, PostgresqlDatabase):
            drop_all_tables(database)
        run_script(database, PREVIOUS_SCHEMA.read_text())
        for table, rows in SEED.items():
            for row in rows:
                marks = ", ".join([database.param] * len(row))
                database.execute_sql(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})",
                                     list(row.values()))
    database.close_all()


def query_database(url, function=None):
    """Return function's answer (by default the structure) on a connection to url's database."""
    database, _ = open_database(url, 5)
    try:
        with database.connection_context():
            return (function or structure)(database)
    finally:
        database.close_all()


def structure(database):
    """Tables, columns, indexes, foreign keys and constraints, by introspection."""
    shape = {table: ([c[:6] for c in database.get_columns(table)],
                     sorted((i.name, tuple(i.columns), i.unique)
                            for i in database.get_indexes(table)),
                     sorted(f[:3] for f in database.get_foreign_keys(table)))
             for table in database.get_tables()}
    if isinstance(database, PostgresqlDatabase):
        # CHECK constraints, which peewee does not introspect.
        sql = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
               "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")
    else:
        sql = "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        # SQLite keeps each table's text as written, and ALTER TABLE ADD COLUMN splices into
        # it: compare the text without its layout.
        return shape, [(name, re.sub(r"\s*([(),])\s*", r"\1", re.sub(r"\s+", " ", text)))
                       for name, text in database.execute_sql(sql).fetchall()]
    return shape, database.execute_sql(sql).fetchall()


def contents(database):
    """Every row of the seeded tables, plus the migrations recorded (none if no record)."""
    rows = {table: database.execute_sql(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in SEED}
    if HISTORY_TABLE in database.get_tables():
        rows[HISTORY_TABLE] = database.execute_sql(
            f"SELECT version, name FROM {HISTORY_TABLE} ORDER BY version").fetchall()
    return rows


def history(url):
    """Return the migrations recorded: (version, name, applied_at) rows."""
    return query_database(url, lambda database: database.execute_sql(
        f"SELECT version, name, applied_at FROM {HISTORY_TABLE} ORDER BY version").fetchall())


def new_database(url, tmp_path):
    """Return the URL of a database without tables: a new file, or url's emptied of tables."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/new.db"
    query_database(url, drop_all_tables)
    return url


@pytest.fixture
def previous(database_url):
    """The test's database, made by the previous schema and holding SEED's rows."""
    build_previous(database_url)
    yield {"structure": query_database(database_url),
           "rows": query_database(database_url, contents)}
    if database_url.startswith("postgresql"):
        # The session's database is shared: leave it for the next test to create anew.
        query_database(database_url, drop_all_tables)


class TestPreviousSchema:
    """The app is created (and so upgrades) only once the previous-schema database exists."""

    @pytest.fixture
    def config(self, config, previous):
        return config

    def test_upgrade_db_keeps_every_row_and_matches_a_new_database(
            self, runner, client, database_url, previous, tmp_path):
        result = runner.invoke(args=["upgrade-db"])
        assert result.exit_code == 0, result.output
        assert result.output == APPLIED
        rows = query_database(database_url, contents)
        assert rows.pop(HISTORY_TABLE) == RECORDED
        assert rows == {table: [row + ADDED.get(table, ()) for row in seeded]
                        for table, seeded in previous["rows"].items()}
        upgraded = query_database(database_url)
        assert upgraded != previous["structure"]

        auth = {"Authorization": f"Bearer {SECRET}"}
        assert client.get(f"/api/v1/leads/{LEAD}", headers=auth).get_json()["name"] == "Layla"
        offering = client.post("/api/v1/offerings", headers=auth,
                               json={"title": "Marina View 2BR", "price": 1850000})
        assert offering.status_code == 201, offering.get_json()
        appointment = client.post("/api/v1/appointments", headers=auth, json={
            "customer_name": "Layla", "customer_phone": "+971500000001",
            "scheduled_start": "2030-03-01T10:00:00Z", "scheduled_end": "2030-03-01T11:00:00Z",
            "lead_id": LEAD, "conversation_id": CONVERSATION,
            "offering_id": offering.get_json()["id"]})
        assert appointment.status_code == 201, appointment.get_json()

        new = new_database(database_url, tmp_path)
        assert query_database(new, upgrade).before is None
        assert upgraded == query_database(new)

    def test_upgrading_again_changes_nothing(self, runner, database_url):
        assert runner.invoke(args=["upgrade-db"]).output == APPLIED
        before = query_database(database_url), history(database_url)
        for _ in range(2):
            result = runner.invoke(args=["upgrade-db"])
            assert result.exit_code == 0, result.output
            assert result.output == f"Database schema is up to date (version {LATEST}).\n"
        assert (query_database(database_url), history(database_url)) == before

    def test_init_db_upgrades_too(self, runner, database_url):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert result.output == f"{APPLIED}Database ready.\n"
        assert [row[:2] for row in history(database_url)] == RECORDED

    def test_a_database_from_a_newer_vorel_lite_is_refused_untouched(self, app, database_url,
                                                                     tmp_path):
        newer = (f"INSERT INTO schema_migrations VALUES ({LATEST + 1}, "
                 f"'{LATEST + 1:04d}_from_the_future', 't')")
        query_database(database_url, lambda database: database.execute_sql(newer))
        before = query_database(database_url), query_database(database_url, contents)
        message = (f"database schema version {LATEST + 1} is newer than this vorel-lite "
                   f"({LATEST}); upgrade vorel-lite")
        with pytest.raises(SchemaTooNew, match=re.escape(message)):
            create_app({"TESTING": True, "DATABASE_URL": database_url,
                        "INSTANCE_PATH": str(tmp_path / "instance")})
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("VOREL_")}
        env.update(VOREL_DATABASE_URL=database_url, VOREL_INSTANCE_PATH=str(tmp_path / "cli"))
        cli = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "upgrade-db"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 1
        assert cli.stderr == f"Error: {message}\n"
        assert (query_database(database_url), query_database(database_url, contents)) == before

    def test_a_failing_migration_leaves_the_database_as_it_was(self, monkeypatch, config,
                                                               database_url, previous):
        broken = Migration(LATEST + 1, "9999_broken",
                           "CREATE TABLE extra (id TEXT PRIMARY KEY);\n"
                           "ALTER TABLE tenants ADD COLUMN region TEXT;\n"
                           "UPDATE leads SET name = 'changed';\n"
                           "INSERT INTO no_such_table VALUES (1);\n")
        known = vorel_lite.migrations.known_migrations()
        monkeypatch.setattr(vorel_lite.migrations, "known_migrations", lambda: known + (broken,))
        with pytest.raises(DatabaseError, match="no_such_table"):
            create_app(config)
        assert query_database(database_url) == previous["structure"]
        assert query_database(database_url, contents) == previous["rows"]

    def test_upgraders_starting_at_once_apply_each_migration_once(self, database_url, previous):
        # Workers or hosts starting together: each its own connection, all upgrading at once.
        databases = [open_database(database_url, 30)[0] for _ in range(4)]
        barrier = threading.Barrier(len(databases))
        outcomes = []

        def start(database):
            with database.connection_context():
                barrier.wait()
                try:
                    outcomes.append([m.name for m in upgrade(database).applied])
                except DatabaseError as exc:
                    outcomes.append(exc)
            database.close_all()

        threads = [threading.Thread(target=start, args=(d,)) for d in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count([]) == 3 and list(MIGRATIONS) in outcomes, outcomes
        assert [row[:2] for row in history(database_url)] == RECORDED


def test_a_new_database_gets_the_schema_and_every_migration_recorded(database_url, tmp_path):
    new = new_database(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": new,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["upgrade-db"])
    assert result.output == f"Created the database schema (version {LATEST}).\n"
    assert [row[:2] for row in history(new)] == RECORDED
    assert runner.invoke(args=["upgrade-db"]).output == (
        f"Database schema is up to date (version {LATEST}).\n")


def test_reset_db_recreates_the_schema_and_its_record(app, runner, database_url, lead):
    result = runner.invoke(args=["reset-db", "--yes"])
    assert result.exit_code == 0, result.output
    assert [row[:2] for row in history(database_url)] == RECORDED


def test_a_server_starting_on_an_old_database_logs_each_migration_it_applies(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(PREVIOUS_SCHEMA.read_text(encoding="utf-8"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOREL_")}
    started = subprocess.run(
        [sys.executable, "-c", "from vorel_lite import create_app; create_app()"],
        cwd=ROOT, env={**env, "VOREL_DATABASE_URL": f"sqlite:///{path}",
                       "VOREL_INSTANCE_PATH": str(tmp_path / "instance")},
        capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    applied = re.findall(r"applied schema migration (\S+)", started.stderr)
    assert applied == [m.name for m in vorel_lite.migrations.known_migrations()], started.stderr
