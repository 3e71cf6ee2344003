"""Schema versions: the numbered SQL migrations beside this file, applied in order and recorded.

A new database gets schema.sql (the whole current schema) with every migration recorded as
applied; an existing one gets, in one transaction, the migrations above its version: the
highest recorded, or 0 for a database made before versions were recorded.
"""
import functools
import logging
import re
from datetime import datetime, timezone
from importlib import resources
from typing import NamedTuple

import click
from peewee import PostgresqlDatabase, Table, fn

# NNNN_name.sql is portable SQL. Should a migration ever need a dialect split, a
# NNNN_name.postgresql.sql beside it would replace it on PostgreSQL (not needed yet).
MIGRATION_FILE = re.compile(r"(\d{4})_\w+\.sql")
# pg_advisory_xact_lock key: one upgrader at a time per PostgreSQL database ("vorel" in ASCII).
UPGRADE_LOCK = 0x766F72656C
HISTORY_TABLE = "schema_migrations"
HISTORY = Table(HISTORY_TABLE, ("version", "name", "applied_at"))

log = logging.getLogger(__name__)


class Migration(NamedTuple):
    version: int
    name: str
    script: str


class Upgrade(NamedTuple):
    """What one upgrade did: version before (None: the schema was created), after, applied."""

    before: int | None
    after: int
    applied: tuple


class SchemaTooNew(click.ClickException):
    """The database was migrated by a newer vorel-lite than this one."""

    # A ClickException so that the flask CLI, which creates the app (and so upgrades) before
    # any command runs, prints the message alone instead of a traceback.


@functools.cache
def known_migrations():
    """Return the migrations shipped in this package, ordered by version."""
    found = sorted(
        Migration(int(match[1]), entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
        for entry in resources.files(__name__).iterdir()
        if (match := MIGRATION_FILE.fullmatch(entry.name)))
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered from 1 without gaps or repeats: "
                           f"{[m.name for m in found]}")
    return tuple(found)


def upgrade(database):
    """Bring database to the current schema in one transaction, and say what was done."""
    migrations = known_migrations()
    latest = migrations[-1].version if migrations else 0
    with database.atomic():
        if isinstance(database, PostgresqlDatabase):
            # Workers and hosts starting at once queue here; on SQLite, BEGIN IMMEDIATE does.
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK,))
        tables = set(database.get_tables())
        if HISTORY_TABLE in tables:
            current = HISTORY.select(fn.MAX(HISTORY.version)).scalar(database) or 0
        elif "tenants" in tables:
            current = 0
            run_script(database, history_ddl())
        else:
            run_script(database, read_schema())
            record(database, migrations)
            return Upgrade(None, latest, ())
        if current > latest:
            raise SchemaTooNew(f"database schema version {current} is newer than this "
                               f"vorel-lite ({latest}); upgrade vorel-lite")
        pending = tuple(m for m in migrations if m.version > current)
        for migration in pending:
            run_script(database, migration.script)
            record(database, [migration])
    for migration in pending:
        log.info("applied schema migration %s", migration.name)
    return Upgrade(current, latest, pending)


def record(database, migrations):
    """Record migrations as applied."""
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"
    rows = [{HISTORY.version: m.version, HISTORY.name: m.name, HISTORY.applied_at: now}
            for m in migrations]
    if rows:
        HISTORY.insert(rows).execute(database)


def read_schema():
    """Return the text of schema.sql."""
    return resources.files("vorel_lite").joinpath("schema.sql").read_text(encoding="utf-8")


def history_ddl():
    """Return schema.sql's statement creating the schema_migrations table."""
    return next(statement for statement in split_statements(read_schema())
                if statement.startswith(f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} "))


def run_script(database, script):
    """Execute each statement of an SQL script."""
    for statement in split_statements(script):
        database.execute_sql(statement)


def split_statements(script):
    """Split an SQL script into statements, dropping comment lines."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
