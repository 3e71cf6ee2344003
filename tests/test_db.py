"""schema.sql is the source of truth: the models match it, init-db is safe, SQLite is tuned."""
import os
import sqlite3

import pytest
from peewee import IntegrityError

from vorel_lite.db import db
from vorel_lite.migrations import HISTORY_TABLE
from vorel_lite.models import BaseModel, Lead, Tenant

MODELS = BaseModel.__subclasses__()


def test_every_table_has_a_model(app):
    with app.app_context():
        # The migrations' own record, not the app's data.
        assert set(db.get_tables()) == {m._meta.table_name for m in MODELS} | {HISTORY_TABLE}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_model_columns_match_schema_sql(app, model):
    with app.app_context():
        columns = {c.name: c for c in db.get_columns(model._meta.table_name)}
        indexes = db.get_indexes(model._meta.table_name)
        foreign_keys = {fk.column: fk.dest_table for fk in
                        db.get_foreign_keys(model._meta.table_name)}
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    assert set(columns) == set(fields)
    for name, field in fields.items():
        column = columns[name]
        sql_type = db.obj.get_context_options()["field_types"][field.field_type]
        assert column.data_type.upper() == sql_type.upper(), name
        assert column.null == field.null, name
        assert column.primary_key == field.primary_key, name
    for name, field in fields.items():
        if hasattr(field, "rel_model"):
            assert foreign_keys.pop(name) == field.rel_model._meta.table_name
    assert foreign_keys == {}
    primary_key = (model._meta.primary_key.column_name,)
    unique_in_schema = {tuple(i.columns) for i in indexes if i.unique} - {primary_key}
    unique_in_model = {(f.column_name,) for f in fields.values() if f.unique}
    unique_in_model |= {tuple(model._meta.fields[n].column_name for n in names)
                        for names, unique in model._meta.indexes if unique}
    assert unique_in_schema == unique_in_model
    plain_in_schema = {tuple(i.columns) for i in indexes if not i.unique}
    plain_in_model = {tuple(model._meta.fields[n].column_name for n in names)
                      for names, unique in model._meta.indexes if not unique}
    plain_in_model |= {(f.column_name,) for f in fields.values() if f.index and not f.unique}
    assert plain_in_schema == plain_in_model


def test_init_db_twice_keeps_data(app, runner, lead):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert Lead.select().count() == 1


def test_reset_db_asks_first(app, runner, lead):
    result = runner.invoke(args=["reset-db"], input="n\n")
    assert result.exit_code != 0
    with app.app_context():
        assert Lead.select().count() == 1
    assert runner.invoke(args=["reset-db", "--yes"]).exit_code == 0
    with app.app_context():
        assert Lead.select().count() == 0 and Tenant.select().count() == 0


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    with app.app_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000


@pytest.mark.parametrize("statement", [
    "INSERT INTO leads (id, tenant_id, conversation_id, status, attributes, created_at, "
    "updated_at) VALUES ('x', '{tenant}', 'no-such-conversation', 'new', '{{}}', 't', 't')",
    "UPDATE leads SET status = 'won'",
    "UPDATE leads SET qualification_score = 101",
    "UPDATE conversations SET channel = 'sms'",
    "INSERT INTO events (id, tenant_id, event, created_at, data) "
    "VALUES ('e', '{tenant}', 'lead.deleted', 't', '{{}}')",
    "INSERT INTO conversations (id, tenant_id, channel, customer_identifier, status, "
    "created_at) VALUES ('c', '{tenant}', 'voice', '', 'active', 't')",
])
def test_constraints_guard_the_data(app, lead, statement):
    with app.app_context():
        tenant = Tenant.get().id
        with pytest.raises(IntegrityError):
            with db.atomic():
                db.execute_sql(statement.format(tenant=tenant))


class TestInMemory:
    """DATABASE_URL sqlite:///:memory: works within one process, across requests."""

    @pytest.fixture
    def config(self, config):
        return {**config, "DATABASE_URL": "sqlite:///:memory:"}

    def test_serves_a_full_flow_in_process(self, app, client, auth):
        conversation = client.post("/api/v1/conversations", headers=auth, json={
            "channel": "voice", "customer_identifier": "+1"}).get_json()
        lead = client.post("/api/v1/leads", headers=auth,
                           json={"conversation_id": conversation["id"]}).get_json()
        assert client.get(f"/api/v1/leads/{lead['id']}", headers=auth).get_json() == lead
        assert len(client.get("/api/v1/events", headers=auth).get_json()["data"]) == 2
        assert not any(name.endswith(".db") for name in os.listdir(app.instance_path))


def test_the_schema_file_ships_inside_the_package():
    from importlib import resources
    text = resources.files("vorel_lite").joinpath("schema.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS leads" in text
    connection = sqlite3.connect(":memory:")
    connection.executescript(text)
    connection.executescript(text)


@pytest.mark.sqlite_only
def test_every_file_vorel_lite_creates_is_private(tmp_path, client, auth, conversation):
    instance = tmp_path / "instance"
    assert instance.stat().st_mode & 0o777 == 0o700
    created = [tmp_path / name for name in ("test.db", "test.db-wal", "test.db-shm")]
    created += [path for path in instance.iterdir()]
    assert (tmp_path / "test.db-wal").exists() and (instance / "secret-key").exists()
    for path in created:
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, path


def test_an_existing_database_is_made_private(tmp_path):
    from vorel_lite import create_app
    database = tmp_path / "old.db"
    sqlite3.connect(database).close()
    os.chmod(database, 0o644)
    create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{database}",
                "INSTANCE_PATH": str(tmp_path / "instance")})
    assert database.stat().st_mode & 0o777 == 0o600
