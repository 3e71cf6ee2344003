"""`flask backup PATH`: a consistent copy of the SQLite database taken while it serves."""
import sqlite3
import threading

import pytest

from vorel_lite import create_app


@pytest.mark.sqlite_only
def test_a_backup_taken_during_writes_is_consistent_and_restores(app, client, auth, runner,
                                                                 tmp_path):
    stop, written = threading.Event(), []

    def write():
        while not stop.is_set():
            number = len(written)
            response = client.post("/api/v1/conversations", headers=auth, json={
                "channel": "voice", "customer_identifier": f"+1{number:09d}"})
            assert response.status_code == 201
            written.append(response.get_json()["id"])

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        before = len(written)
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        writer.join(30)
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copy.db"
    assert copy.stat().st_mode & 0o077 == 0
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = connection.execute("SELECT count(*) FROM conversations").fetchone()[0]
    assert before <= copied <= len(written)
    # The copy is a working database: an app on it serves what was copied.
    restored = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{copy}",
                           "INSTANCE_PATH": str(tmp_path / "restored")})
    page = restored.test_client().get("/api/v1/conversations?limit=100", headers=auth)
    assert len(page.get_json()["data"]) == min(copied, 100)


def test_on_postgresql_backup_points_at_pg_dump(app, runner, tmp_path, config):
    result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    if config["DATABASE_URL"].startswith("sqlite"):
        assert result.exit_code == 0
    else:
        assert result.exit_code != 0 and "pg_dump" in result.output
