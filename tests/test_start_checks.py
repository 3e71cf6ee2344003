"""A start refused for one of its settings leaves the database as it was: no schema, no row."""
import sqlite3

import pytest
from limits.errors import ConfigurationError

from vorel_lite import create_app

# Each setting checked at start, with a value that stops it.
REFUSED = [("SECRET_KEY", "short", ValueError),
           ("WEBHOOK_PRIVATE_TARGETS", "sometimes", ValueError),
           ("METRICS_ENABLED", "maybe", ValueError),
           ("HANDOFF_CHANNEL", "pigeon", ValueError),
           ("TRUSTED_PROXIES", -1, ValueError),
           ("RATELIMIT_STORAGE_URI", "nowhere://", ConfigurationError),
           ("LOG_LEVEL", "LOUD", ValueError)]


@pytest.mark.parametrize("name, value, error", REFUSED, ids=[name for name, _, _ in REFUSED])
def test_a_refused_start_touches_no_database(tmp_path, name, value, error):
    database = tmp_path / "vorel.db"
    with pytest.raises(error):
        create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                    "DATABASE_URL": f"sqlite:///{database}", name: value})
    # The file may exist, empty: it is created owner-only before SQLite opens it.
    assert tables(database) == []


def tables(database):
    """The names of the tables of a SQLite file (none when it does not exist)."""
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return [name for name, in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]


def test_an_accepted_start_upgrades_the_schema(tmp_path):
    database = tmp_path / "vorel.db"
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{database}"})
    assert "leads" in tables(database) and app.extensions["vorel_schema_upgrade"] is not None
    app.extensions["vorel_db"].close_all()
