"""What the overview shows of a tenant: counts, webhook health, leads and bookings per day."""
from datetime import date, datetime, timedelta, timezone

from peewee import SQL, fn

from ..models import (APPOINTMENT_STATUSES, CONVERSATION_STATUSES, DELIVERY_STATUSES,
                      LEAD_STATUSES, ApiKey, Appointment, Conversation, Lead, WebhookDelivery,
                      WebhookSubscription, utc_now)

CHART_DAYS = 30


def count_by_status(model, statuses, tenant_id):
    """Return {status: rows of the tenant's model with it}, every status present."""
    counts = dict.fromkeys(statuses, 0)
    rows = (model.select(model.status, fn.COUNT(model.id))
            .where(model.tenant == tenant_id)
            .group_by(model.status)
            .tuples())
    counts.update(rows)
    return counts


def delivery_health(tenant_id):
    """Return {delivered, pending, dead: count} of the tenant's webhook deliveries."""
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    rows = (WebhookDelivery.select(WebhookDelivery.status, fn.COUNT(WebhookDelivery.id))
            .join(WebhookSubscription)
            .where(WebhookSubscription.tenant == tenant_id)
            .group_by(WebhookDelivery.status)
            .tuples())
    counts.update(rows)
    return counts


def tenant_counts(tenant_id):
    """Return the overview's numbers for a tenant."""
    upcoming = (Appointment.select()
                .where((Appointment.tenant == tenant_id)
                       & (Appointment.scheduled_start >= utc_now())
                       & Appointment.status.in_(("confirmed", "rescheduled")))
                .count())
    active_keys = (ApiKey.select()
                   .where((ApiKey.tenant == tenant_id) & ApiKey.revoked_at.is_null())
                   .count())
    return {"conversations": count_by_status(Conversation, CONVERSATION_STATUSES, tenant_id),
            "leads": count_by_status(Lead, LEAD_STATUSES, tenant_id),
            "appointments": count_by_status(Appointment, APPOINTMENT_STATUSES, tenant_id),
            "upcoming_appointments": upcoming, "active_keys": active_keys,
            "deliveries": delivery_health(tenant_id)}


def chart_days(today=None, days=CHART_DAYS):
    """Return the chart's days as YYYY-MM-DD, oldest first, ending today (UTC)."""
    today = today or datetime.now(timezone.utc).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def per_day_by_status(model, statuses, tenant_id, days):
    """Return {day: {status: the tenant's model rows created that day}} over days.

    days: consecutive YYYY-MM-DD (UTC, as created_at is), oldest first; every day and status
    is present, 0 when none.
    """
    # Literal bounds, not parameters: PostgreSQL must see the GROUP BY expression as the
    # selected one, and $1 and $4 are different expressions to it.
    day = fn.SUBSTR(model.created_at, SQL("1"), SQL("10"))
    after_last = date.fromisoformat(days[-1]) + timedelta(days=1)
    per_day = {d: dict.fromkeys(statuses, 0) for d in days}
    rows = (model.select(day, model.status, fn.COUNT(model.id))
            .where((model.tenant == tenant_id)
                   & (model.created_at >= f"{days[0]}T00:00:00")
                   & (model.created_at < f"{after_last.isoformat()}T00:00:00"))
            .group_by(day, model.status)
            .tuples())
    for created, status, number in rows:
        per_day[created][status] = number
    return per_day


def leads_per_day(tenant_id, days):
    """Return {day: {status: leads created that day}} of the tenant over days."""
    return per_day_by_status(Lead, LEAD_STATUSES, tenant_id, days)


def bookings_per_day(tenant_id, days):
    """Return {day: {status: appointments booked that day}} of the tenant over days.

    By the day a booking was made (created_at, the day of its booking.created), not the day
    it is for: beside leads per day it shows how many enquiries became bookings, and each
    booking is counted once, on a day already past; the Bookings card counts those to come.
    Counted by each booking's status now, so the chart shows cancellations and no-shows.
    """
    return per_day_by_status(Appointment, APPOINTMENT_STATUSES, tenant_id, days)
