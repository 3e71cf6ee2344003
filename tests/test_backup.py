"""`flask backup PATH`: a consistent copy of the SQLite database taken while it serves."""
import os
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


@pytest.mark.sqlite_only
@pytest.mark.parametrize("target", ["test.db", "test.db-wal", "test.db-shm", "test.db-journal",
                                    "sub/../test.db", "symlink", "hard link"])
def test_the_live_database_and_its_journals_are_refused_as_targets(client, auth, runner,
                                                                   tmp_path, target):
    live = tmp_path / "test.db"
    created = client.post("/api/v1/conversations", headers=auth, json={
        "channel": "voice", "customer_identifier": "+1000000001"}).get_json()
    path = tmp_path / target
    if target == "symlink":
        path = tmp_path / "link.db"
        path.symlink_to(live)
    elif target == "hard link":
        path = tmp_path / "hard.db"
        os.link(live, path)
    elif target.startswith("sub/"):
        (tmp_path / "sub").mkdir()
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 1
    assert "is the live database" in result.output and "Backed up" not in result.output
    assert not isinstance(result.exception, sqlite3.Error)
    assert not list(tmp_path.glob("*.partial"))
    page = client.get("/api/v1/conversations", headers=auth).get_json()
    assert [row["id"] for row in page["data"]] == [created["id"]]


@pytest.mark.sqlite_only
def test_a_missing_target_directory_is_refused_plainly(app, runner, tmp_path):
    missing = tmp_path / "no" / "such"
    result = runner.invoke(args=["backup", str(missing / "copy.db")])
    assert result.exit_code == 1
    assert f"no such directory: {missing}" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, sqlite3.Error)
    assert not (tmp_path / "no").exists()
