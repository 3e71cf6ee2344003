"""What every model shares: the base class, id and timestamp helpers, JSON text columns."""
import json
import uuid
from datetime import datetime, timezone

from peewee import Model, TextField

from ..db import db


def new_id():
    """Return a new random (version 4) UUID as canonical text."""
    return str(uuid.uuid4())


def format_timestamp(moment):
    """Format an aware datetime as RFC 3339 UTC with six fractional digits and a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now():
    """Return the current time as a vorel-lite timestamp string."""
    return format_timestamp(datetime.now(timezone.utc))


class JSONTextField(TextField):
    """A JSON document kept in a TEXT column, so the schema stays portable."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False,
                                                     separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    def apply_changes(self, changes):
        """Apply the fields of a PATCH."""
        for name, value in changes.items():
            setattr(self, name, value)
