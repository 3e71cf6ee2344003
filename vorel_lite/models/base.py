"""What every model shares: the base class, id and timestamp helpers, JSON text columns."""
import json
import uuid
from datetime import datetime, timedelta, timezone

from peewee import Model, TextField

from ..db import db


def new_id():
    """Return a new random (version 4) UUID as canonical text."""
    return str(uuid.uuid4())


def format_timestamp(moment):
    """Format an aware datetime as RFC 3339 UTC with six fractional digits and a Z."""
    # isoformat, not strftime: strftime's %Y writes year 5 as "5", not "0005", and the text
    # would no longer sort as the instants.
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def utc_now(seconds=0):
    """Return the current time, moved by seconds (negative: earlier), as a timestamp string."""
    return format_timestamp(datetime.now(timezone.utc) + timedelta(seconds=seconds))


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


class MergesAttributes:
    """A model with free-form `attributes` and an `updated_at` (leads, offerings).

    A PATCH shallow-merges attributes into the stored object (a key set to null is deleted),
    replaces the other fields, and moves updated_at.
    """

    def apply_changes(self, changes):
        """Apply a PATCH: attributes shallow-merge (null deletes a key), the rest replace."""
        changes = dict(changes)
        if "attributes" in changes:
            merged = dict(self.attributes)
            for name, value in changes.pop("attributes").items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            changes["attributes"] = merged
        super().apply_changes({**changes, "updated_at": utc_now()})
