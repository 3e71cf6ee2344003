"""Field types and validators that follow JSON's rules rather than Python's leniency."""
import re
from datetime import date, datetime
from decimal import Decimal

from marshmallow import ValidationError, fields, missing, validate

from ..body import JSONNumber
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
        # Already dashed 8-4-4-4-12 hex: lowercase is uuid.UUID's canonical text.
        return text.lower()


class OffsetDateTime(fields.String):
    """An RFC 3339 date-time with its offset (`Z` or `+04:00`), loaded as a UTC timestamp.

    Loaded as vorel-lite's timestamp text (UTC, six fractional digits, `Z`), so comparing two
    loaded values compares the instants. A time without an offset, a bare date, a number or
    free text is refused; so is an instant outside years 1 to 9999 once moved to UTC.
    """

    default_error_messages = {
        "invalid_date_time": "Not an RFC 3339 date-time with an offset, such as "
                             "2030-03-01T10:00:00Z or 2030-03-01T14:00:00+04:00."}
    # RFC 3339 section 5.6: T and Z may be lowercase; the offset is mandatory, its hours 00-23
    # and minutes 00-59 (fromisoformat would read +04:60 as +05:00).
    SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
                       r"(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])", re.ASCII)

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
    """A resource field that a PATCH body may not contain (not even as null)."""

    message = "Field is not updatable."

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is missing:
            return super().deserialize(value, attr, data, **kwargs)
        # Before marshmallow's null check: null gets the same answer as any other value.
        raise ValidationError(self.message)


class Price(fields.Field):
    """A price: a JSON number >= 0, at most 12 digits before the point and 4 after, exact.

    Loaded as its decimal text, never through a float: 19.99 is "19.99". The text is the
    shortest that says the value ("19.9", "100", "0"): a JSON number carries no scale (19.90
    and 19.9 are the same number, and most clients cannot even send the former), so one value
    has exactly one text, and equal prices compare equal as strings.
    """

    INTEGER_DIGITS = 12
    FRACTION_DIGITS = 4
    default_error_messages = {
        "invalid": "Not a valid price: send a JSON number such as 19.99.",
        "negative": "Must be greater than or equal to 0.",
        "too_large": f"At most {INTEGER_DIGITS} digits before the decimal point.",
        "too_precise": f"At most {FRACTION_DIGITS} digits after the decimal point.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, JSONNumber):
            number = Decimal(value.text)
        elif isinstance(value, float):
            # A float not read from a body (a program's own value): its shortest repr is the
            # JSON text json.dumps would send for it.
            number = Decimal(repr(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        else:
            raise self.make_error("invalid")
        if not number.is_finite():
            raise self.make_error("invalid")
        if number < 0:
            raise self.make_error("negative")
        if number == 0:
            return "0"  # also -0 and 0.0000
        # Drop the fraction's trailing zeros exactly (Decimal.normalize rounds to 28 digits),
        # in one pass: a body may hold a million of them.
        _, digits, exponent = number.as_tuple()
        zeros = 0
        while zeros < -exponent and digits[-1 - zeros] == 0:
            zeros += 1
        digits, exponent = digits[:len(digits) - zeros], exponent + zeros
        if len(digits) + exponent > self.INTEGER_DIGITS:
            raise self.make_error("too_large")
        if -exponent > self.FRACTION_DIGITS:
            raise self.make_error("too_precise")
        return format(Decimal((0, digits, exponent)), "f")


# http or https (in any case: RFC 3986 section 3.1), then an RFC 3986 authority without
# userinfo, path, query and fragment: every URI this matches is one for RFC 3986 too, so
# `format: uri` adds nothing the server misses.
HTTP_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"
    r"(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+(?::[0-9]{1,5})?"
    r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*"
    r"(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?"
    r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$")


class HttpUrl(fields.String):
    """An absolute http(s) URI of at most max_length characters (non-ASCII: percent-encoded)."""

    def __init__(self, *, max_length=2048, **kwargs):
        super().__init__(validate=[validate.Length(max=max_length), FullMatch(
            HTTP_URL_PATTERN, error="Not an http(s) URI (RFC 3986).")], **kwargs)


class Date(fields.String):
    """A calendar date written YYYY-MM-DD (RFC 3339 full-date), loaded as that text."""

    default_error_messages = {"invalid_date": "Not a date written YYYY-MM-DD, such as "
                                              "2030-03-01."}
    SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.SHAPE.fullmatch(text):
            raise self.make_error("invalid_date")
        try:
            date.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid_date") from None
        return text


def is_canonical_uuid(text):
    """Tell whether text is a dashed UUID."""
    return isinstance(text, str) and re.fullmatch(UUID_PATTERN, text) is not None
