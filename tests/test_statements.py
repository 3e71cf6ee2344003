"""Cached statements: the same rows as peewee's own queries, per database, values as given."""
from vorel_lite import create_app
from vorel_lite.models import Conversation, Lead, Tenant
from vorel_lite.statements import Select, Statement, insert, new_row, param, update

BY_NAME = Select(Lead, lambda: Lead.select().where(Lead.name == param("name")))


def make_conversation(tenant, identifier="+971500000001"):
    return Conversation.create(tenant=tenant, channel="whatsapp", customer_identifier=identifier)


def test_insert_writes_what_create_writes(app):
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        values = {"tenant": tenant.id, "name": "Layla", "qualification_score": 7,
                  "attributes": {"bedrooms": 2, "note": "n\u00e9e"}}
        inserted = insert(Lead, conversation=make_conversation(tenant).id, **values)
        Lead.create(conversation=make_conversation(tenant, "+2").id, **values)
        assert not inserted._dirty
        ignored = {"id": None, "conversation": None, "created_at": None, "updated_at": None}
        stored = [{**row.__data__, **ignored} for row in Lead.select().order_by(Lead.name)]
        assert len(stored) == 2 and stored[0] == stored[1]
        assert stored[0]["attributes"] == values["attributes"]
        assert Lead.get_by_id(inserted.id).created_at == inserted.created_at


def test_select_converts_columns_and_matches_peewee(app):
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        Lead.create(tenant=tenant, conversation=make_conversation(tenant), name="Omar",
                    qualification_score=42, attributes={"area": "Marina"})
        (row,) = BY_NAME.rows(name="Omar")
        assert row.__data__ == Lead.get(Lead.name == "Omar").__data__
        assert row.attributes == {"area": "Marina"} and row.qualification_score == 42
        assert not row._dirty
        # Built without peewee's __init__: the same state as peewee's own instance.
        peewees = Lead.get(Lead.name == "Omar")
        assert vars(row).keys() == vars(peewees).keys() and row.__rel__ == {}
        assert row.tenant.slug == "acme" and row.conversation.channel == "whatsapp"
        row.name = "Omar B"
        assert row._dirty == {"name"} and row.save() == 1
        assert Lead.get_by_id(row.id).name == "Omar B"
        assert BY_NAME.first(name="nobody") is None
        # A value is data, never SQL, whatever it looks like.
        assert BY_NAME.rows(name="Omar' OR '1'='1") == []


def test_update_writes_every_column_of_the_row_and_only_it(app):
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        lead = Lead.create(tenant=tenant, conversation=make_conversation(tenant), name="Omar")
        other = Lead.create(tenant=tenant, conversation=make_conversation(tenant, "+2"),
                            name="Other")
        lead.name, lead.qualification_score, lead.attributes = "Omar B.", 9, {"k": [1, "é"]}
        update(lead)
        assert not lead._dirty
        stored = Lead.get_by_id(lead.id).__data__
        assert {name: stored[name] for name in lead.__data__} == lead.__data__
        assert Lead.get_by_id(other.id).name == "Other"
        count = Statement(lambda: Lead.select(Lead.id).where(Lead.name == param("name")))
        assert count.scalar(name="Omar B.") == lead.id and count.scalar(name="none") is None


def test_each_app_runs_a_statement_on_its_own_database(tmp_path):
    apps = [create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/{n}.db",
                        "INSTANCE_PATH": str(tmp_path / f"instance{n}")}) for n in range(2)]
    for n, app in enumerate(apps):
        with app.app_context():
            tenant = Tenant.create(slug="acme", name="Acme")
            Lead.create(tenant=tenant, conversation=make_conversation(tenant), name=f"lead {n}")
    for n, app in enumerate(apps):
        with app.app_context():
            assert [row.name for row in BY_NAME.rows(name=f"lead {n}")] == [f"lead {n}"]
            assert BY_NAME.rows(name=f"lead {1 - n}") == []


def test_statements_compile_to_the_dialect_of_the_database_in_use():
    from peewee import PostgresqlDatabase

    from vorel_lite.db import db
    from vorel_lite.keys import ACTIVE_KEY

    previous = db._latest
    db.initialize(PostgresqlDatabase("vorel"))  # SQL only: nothing connects
    try:
        sql, params, columns = ACTIVE_KEY.compile()
        assert sql.count("%s") == 2 and "?" not in sql and params == ("key_hash", 1)
        assert [name for name, _ in columns][:2] == ["id", "tenant"]
    finally:
        db.initialize(previous)


def test_insert_under_a_parent_writes_only_under_the_tenants_own_row(app):
    with app.app_context():
        tenant = Tenant.create(slug="acme", name="Acme")
        other = Tenant.create(slug="other", name="Other")
        theirs = make_conversation(other)
        for conversation_id in (theirs.id, "00000000-0000-4000-8000-000000000000"):
            assert insert(Lead, Lead.conversation, tenant=tenant.id,
                          conversation=conversation_id, name="Omar") is None
        assert Lead.select().count() == 0
        ours = make_conversation(tenant)
        lead = insert(Lead, Lead.conversation, tenant=tenant.id, conversation=ours.id,
                      name="Omar", created_at="2030-03-01T10:00:00.000000Z")
        stored = Lead.get_by_id(lead.id)
        assert {name: stored.__data__[name] for name in lead.__data__} == lead.__data__
        assert stored.conversation_id == ours.id
        # The defaults the values leave out are computed, the others kept as given.
        assert stored.status == "new" and stored.attributes == {}
        assert stored.created_at == "2030-03-01T10:00:00.000000Z" != stored.updated_at


def test_new_rows_get_their_own_default_values():
    first, second = (new_row(Lead, {"name": "Omar"}) for _ in range(2))
    assert first.id != second.id and first.attributes is not second.attributes
    assert new_row(Lead, {"status": "won"}).status == "won"
    assert new_row(Lead, {"status": "won"}).__data__.keys() == Lead().__data__.keys() | {"status"}
