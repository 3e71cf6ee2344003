"""Fixtures: an app on a fresh temporary database per test, and keys to call it with."""
import pytest

from console_helpers import ACME, add_operator, sign_in
from databases import postgres_or_reason
from services import skip_or_fail
from vorel_lite import create_app
from vorel_lite.keys import SCOPES, issue_key
from vorel_lite.models import Conversation, Event, Lead, Tenant


@pytest.fixture(autouse=True)
def no_vorel_environment(monkeypatch):
    """Keep the developer's VOREL_* variables out of the tests."""
    import os
    for name in list(os.environ):
        if name.startswith("VOREL_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres():
    """The session's throw-away PostgreSQL database, dropped at the end (or a skip)."""
    database = postgres_or_reason()
    if isinstance(database, str):
        skip_or_fail(database)
    yield database
    database.drop()


def pytest_collection_modifyitems(config, items):
    """Run tests marked sqlite_only on SQLite alone (deselected, so pytest counts them)."""
    kept, dropped = [], []
    for item in items:
        on_postgres = getattr(item, "callspec", None) and \
            item.callspec.params.get("database_url") == "postgresql"
        (dropped if on_postgres and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test that uses the app runs on a fresh SQLite file and on an emptied PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    database = request.getfixturevalue("postgres")
    database.empty()
    return database.url


@pytest.fixture
def config(tmp_path, database_url):
    """The test configuration; tests may change it before asking for `app`."""
    return {"TESTING": True, "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    # A pool's idle connections would otherwise stay open until the app is collected.
    database = app.extensions["vorel_db"]
    if hasattr(database, "close_all"):
        database.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_key(app):
    """Return a function issuing a key for a tenant (created if new) and its auth headers."""
    def make(slug="acme", scopes=SCOPES):
        with app.app_context():
            tenant = Tenant.get_or_none(Tenant.slug == slug) or Tenant.create(slug=slug, name=slug)
            _, secret = issue_key(tenant, scopes)
        return {"Authorization": f"Bearer {secret}"}
    return make


@pytest.fixture
def auth(make_key):
    """Headers of an all-scopes key of tenant acme."""
    return make_key("acme")


@pytest.fixture
def other_auth(make_key):
    """Headers of an all-scopes key of another tenant."""
    return make_key("globex")


@pytest.fixture
def conversation(client, auth):
    """A conversation of tenant acme, as the API returned it."""
    response = client.post("/api/v1/conversations", headers=auth,
                           json={"channel": "whatsapp", "customer_identifier": "+971500000001"})
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def lead(client, auth, conversation):
    """A lead on `conversation`, as the API returned it."""
    response = client.post("/api/v1/leads", headers=auth,
                           json={"conversation_id": conversation["id"], "name": "Layla"})
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def offering(client, auth):
    """An offering of tenant acme, as the API returned it."""
    response = client.post("/api/v1/offerings", headers=auth,
                           json={"title": "Marina View 2BR", "price": 1850000})
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def appointment(client, auth):
    """An appointment of tenant acme, as the API returned it."""
    response = client.post("/api/v1/appointments", headers=auth, json={
        "customer_name": "Layla Haddad", "customer_phone": "+971500000001",
        "scheduled_start": "2030-03-01T10:00:00Z", "scheduled_end": "2030-03-01T11:00:00Z"})
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def table_counts(app):
    """Return a function counting rows of the API's tables, to prove nothing was written."""
    def counts():
        with app.app_context():
            return {model.__name__: model.select().count() for model in (Conversation, Lead, Event)}
    return counts


@pytest.fixture
def receivers():
    """Return a function starting a scripted loopback receiver (tests/receiver.py)."""
    from receiver import Receiver
    made = []

    def make(*args, **kwargs):
        made.append(Receiver(*args, **kwargs))
        return made[-1]
    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def acme_id(app):
    """Tenant acme, with the console operator ACME; its id."""
    return add_operator(app, ACME, "acme")


@pytest.fixture
def console(client, acme_id):
    """A client signed in to the console as ACME."""
    assert sign_in(client, ACME).status_code == 303
    return client
