"""Appointments: create, read, list (by scheduled_start), update with lifecycle events."""
from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_body, load_query
from ..db import db
from ..events import emit_events
from ..models import Appointment, Conversation, Lead, Offering
from ..openapi.registry import documented
from ..pagination import Pages
from ..schemas.appointments import (AppointmentCreate, AppointmentOut, AppointmentUpdate,
                                    check_schedule)
from ..schemas.common import PageQuery
from ..statements import insert, update
from . import PREFIX, dump_page, get_owned

bp = Blueprint("appointments", __name__, url_prefix=f"{PREFIX}/appointments")

create_schema = AppointmentCreate()
update_schema = AppointmentUpdate()
page_query = PageQuery()
appointment_schema = AppointmentOut()
pages = Pages(Appointment, order=Appointment.scheduled_start)
# Each optional link of a create: body field -> (model field, model of the linked row).
LINKS = {"conversation_id": ("conversation", Conversation), "lead_id": ("lead", Lead),
         "offering_id": ("offering", Offering)}
STATUS_EVENTS = {"cancelled": "booking.cancelled", "completed": "booking.completed"}


@bp.post("")
@documented("createAppointment", "Create an appointment", request=AppointmentCreate,
            response="Appointment", status=201, errors=(404,),
            description="`conversation_id`, `lead_id` and `offering_id` are optional; each "
                        "must be a row of your tenant, else 404 naming it. Times need an "
                        "offset and come back in UTC; `scheduled_end` after `scheduled_start`.",
            success_description="Appointment created. Emits `booking.created`.")
@require_scope("appointments:write")
def create_appointment():
    """Book an appointment, optionally linked to a conversation, a lead and an offering."""
    data = load_body(create_schema)
    links = linked_rows(data)
    with db.atomic():
        appointment = insert(Appointment, tenant=g.tenant_id, **links, **data)
        body = appointment_schema.dump(appointment)
        emit_events(body, "booking.created")
    return body, 201


@bp.get("")
@documented("listAppointments", "List appointments", query=PageQuery,
            response="AppointmentPage",
            description="By `scheduled_start`, latest first; equal times by `id`, descending.")
@require_scope("read")
def list_appointments():
    """List the tenant's appointments, latest scheduled_start first."""
    args = load_query(page_query)
    return dump_page(pages.page(args["limit"], args.get("cursor")), appointment_schema)


@bp.get("/<appointment_id>")
@documented("getAppointment", "Get an appointment", response="Appointment", errors=(404,))
@require_scope("read")
def get_appointment(appointment_id):
    """Return one appointment."""
    return appointment_schema.dump(get_owned(Appointment, appointment_id))


@bp.patch("/<appointment_id>")
@documented("updateAppointment", "Update an appointment", request=AppointmentUpdate,
            response="Appointment", errors=(404,),
            description="Strict-partial; the links are not updatable. The stored times merged "
                        "with the body must keep `scheduled_end` after `scheduled_start`. "
                        "`status` may move from any value to any value. Emits "
                        "`booking.rescheduled` when a time changes, then `booking.cancelled` "
                        "or `booking.completed` when the status moves to that; nothing else.")
@require_scope("appointments:write")
def update_appointment(appointment_id):
    """Change some fields of an appointment."""
    changes = load_body(update_schema)
    with db.atomic():
        appointment = get_owned(Appointment, appointment_id, for_update=True)
        before = appointment_schema.dump(appointment)
        appointment.apply_changes(changes)
        check_schedule(appointment.scheduled_start, appointment.scheduled_end, moved=changes)
        update(appointment)
        body = appointment_schema.dump(appointment)
        emit_events(body, *lifecycle_events(before, body))
    return body


def linked_rows(data):
    """Pop the links of a create body; return them as model fields, 404 for one not visible."""
    links = {}
    for name, (field, model) in LINKS.items():
        row_id = data.pop(name, None)
        if row_id is not None:
            links[field] = get_owned(model, row_id, field=name).id
    return links


def lifecycle_events(before, after):
    """Name the events of a change from before to after: a reschedule first, then a status."""
    names = []
    if (before["scheduled_start"], before["scheduled_end"]) != (after["scheduled_start"],
                                                                after["scheduled_end"]):
        names.append("booking.rescheduled")
    if after["status"] != before["status"] and after["status"] in STATUS_EVENTS:
        names.append(STATUS_EVENTS[after["status"]])
    return names
