"""Appointment bodies and representation: times with an offset, the end after the start."""
from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf

from ..models import APPOINTMENT_STATUSES
from .common import Representation, UpdateSchema
from .fields import CanonicalUUID, NotUpdatable, OffsetDateTime

TIME_DESCRIPTION = ("RFC 3339 with an offset (`Z` or `+04:00`); returned as the same instant "
                    "in UTC. `scheduled_end` must be after `scheduled_start`.")
LINK_DESCRIPTION = "Optional; must be {} of your tenant (else 404). Not updatable."


class ReadOnly(NotUpdatable):
    """A field only the server sets: no body may contain it."""

    message = "Field is read-only."


def check_schedule(start, end, moved=("scheduled_end",)):
    """Refuse an end not after the start: name the end, or the start if only it moved."""
    # Both are loaded (or stored) UTC timestamps in one format: the text orders as the instants.
    if end > start:
        return
    if "scheduled_end" in moved:
        raise ValidationError({"scheduled_end": [f"Must be after scheduled_start ({start})."]})
    raise ValidationError({"scheduled_start": [f"Must be before scheduled_end ({end})."]})


def time_field(**options):
    """Return a scheduled_start or scheduled_end field."""
    return OffsetDateTime(metadata={"description": TIME_DESCRIPTION}, **options)


def link_field(what):
    """Return an optional, nullable id of another resource of the tenant."""
    return CanonicalUUID(allow_none=True, metadata={"description": LINK_DESCRIPTION.format(what)})


class AppointmentFields(Schema):
    """The appointment fields a client may write, create and update alike."""

    customer_name = fields.String(validate=Length(1, 200))
    customer_phone = fields.String(validate=Length(5, 32), metadata={
        "description": "Any 5 to 32 characters; stored as given (not validated as E.164)."})
    # RFC 5321 caps an address at 254 characters.
    customer_email = fields.Email(allow_none=True, validate=Length(max=254))
    scheduled_start = time_field()
    scheduled_end = time_field()
    location_text = fields.String(allow_none=True, validate=Length(max=500))
    status = fields.String(validate=OneOf(APPOINTMENT_STATUSES))

    @validates_schema
    def check_times(self, data, **kwargs):
        """Refuse a body whose end is not after its start."""
        if "scheduled_start" in data and "scheduled_end" in data:
            check_schedule(data["scheduled_start"], data["scheduled_end"])


class AppointmentCreate(AppointmentFields):
    customer_name = fields.String(required=True, validate=Length(1, 200))
    customer_phone = fields.String(required=True, validate=Length(5, 32), metadata={
        "description": "Any 5 to 32 characters; stored as given (not validated as E.164)."})
    scheduled_start = time_field(required=True)
    scheduled_end = time_field(required=True)
    status = fields.String(validate=OneOf(APPOINTMENT_STATUSES), load_default="confirmed")
    conversation_id = link_field("a conversation")
    lead_id = link_field("a lead")
    offering_id = link_field("an offering (not deleted)")
    google_calendar_event_id = ReadOnly()


class AppointmentUpdate(UpdateSchema, AppointmentFields):
    id_ = NotUpdatable(data_key="id")
    conversation_id = NotUpdatable()
    lead_id = NotUpdatable()
    offering_id = NotUpdatable()
    google_calendar_event_id = ReadOnly()
    created_at = NotUpdatable()


class AppointmentOut(Representation):
    id = CanonicalUUID()
    customer_name = fields.String()
    customer_phone = fields.String()
    customer_email = fields.Email(allow_none=True)
    scheduled_start = OffsetDateTime(metadata={"description": "UTC."})
    scheduled_end = OffsetDateTime(metadata={"description": "UTC; after `scheduled_start`."})
    location_text = fields.String(allow_none=True)
    status = fields.String(validate=OneOf(APPOINTMENT_STATUSES))
    conversation_id = CanonicalUUID(allow_none=True)
    lead_id = CanonicalUUID(allow_none=True)
    offering_id = CanonicalUUID(allow_none=True)
    google_calendar_event_id = fields.String(allow_none=True,
                                             metadata={"description": "Read-only."})
    created_at = OffsetDateTime()
