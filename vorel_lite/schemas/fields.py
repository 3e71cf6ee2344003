"""Field types and validators that follow JSON's rules rather than Python's leniency."""
import re
import uuid
from datetime import datetime

from marshmallow import ValidationError, fields, validate

from ..models import format_timestamp

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class JSONInteger(fields.Integer):
    """A JSON integer: 5 and 5.0 pass; true, "5" and 5.5 do not."""

    def _validated(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class QueryInteger(fields.Integer):
    """An integer written in decimal digits in a query string."""

    def _validated(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"-?0*[0-9]{1,18}", value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class CanonicalUUID(fields.String):
    """A UUID in its dashed 8-4-4-4-12 form, loaded as lowercase canonical text."""

    default_error_messages = {"invalid_uuid": "Not a valid UUID."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(UUID_PATTERN, text):
            raise self.make_error("invalid_uuid")
        return str(uuid.UUID(text))


class OffsetDateTime(fields.String):
    """An RFC 3339 date-time with its offset (`Z` or `+04:00`), loaded as a UTC timestamp.

    Loaded as vorel-lite's timestamp text (UTC, six fractional digits, `Z`), so comparing two
    loaded values compares the instants. A time without an offset, a bare date, a number or
    free text is refused; so is an instant outside years 1 to 9999 once moved to UTC.
    """

    default_error_messages = {
        "invalid_date_time": "Not an RFC 3339 date-time with an offset, such as "
                             "2030-03-01T10:00:00Z or 2030-03-01T14:00:00+04:00."}
    # RFC 3339 section 5.6: T and Z may be lowercase; the offset is mandatory.
    SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
                       r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})", re.ASCII)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.SHAPE.fullmatch(text):
            raise self.make_error("invalid_date_time")
        try:
            return format_timestamp(datetime.fromisoformat(text.upper()))
        except (ValueError, OverflowError):
            raise self.make_error("invalid_date_time") from None


class FullMatch(validate.Regexp):
    """Regexp that must match the whole value (re.match with $ accepts a trailing newline)."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class NotUpdatable(fields.Field):
    """A resource field that a PATCH body may not contain."""

    def _deserialize(self, value, attr, data, **kwargs):
        raise ValidationError("Field is not updatable.")


def is_canonical_uuid(text):
    """Tell whether text is a dashed UUID."""
    return isinstance(text, str) and re.fullmatch(UUID_PATTERN, text) is not None
