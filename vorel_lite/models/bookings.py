"""Appointments booked with the tenant's customers."""
from peewee import ForeignKeyField, TextField

from .base import BaseModel, new_id, utc_now
from .catalog import Offering
from .resources import Conversation, Lead
from .tenancy import Tenant

APPOINTMENT_STATUSES = ("confirmed", "cancelled", "completed", "rescheduled", "no_show")


class Appointment(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    customer_name = TextField()
    customer_phone = TextField()
    customer_email = TextField(null=True)
    scheduled_start = TextField()
    scheduled_end = TextField()
    location_text = TextField(null=True)
    status = TextField(default="confirmed")
    conversation = ForeignKeyField(Conversation, column_name="conversation_id", null=True,
                                   index=False)
    lead = ForeignKeyField(Lead, column_name="lead_id", null=True, index=False)
    offering = ForeignKeyField(Offering, column_name="offering_id", null=True, index=False)
    google_calendar_event_id = TextField(null=True)
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "appointments"
        indexes = ((("tenant", "scheduled_start", "id"), False),
                   (("tenant", "created_at", "id"), False))
