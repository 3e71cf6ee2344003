"""GET /healthz: 200 while the database answers, 503 when it does not; no key needed."""
from peewee import OperationalError

from vorel_lite.db import db


def test_healthz_is_200_without_a_key(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")
    monkeypatch.setattr(type(db.obj), "execute_sql", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert "connection refused" not in response.get_data(as_text=True)
