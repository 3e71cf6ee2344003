"""GET /: the tenant at a glance."""
from flask import render_template
from flask_login import current_user

from .blueprint import bp
from .chart import BOOKING_COLOURS, LEAD_COLOURS, stack_chart
from .glance import bookings_per_day, chart_days, leads_per_day, tenant_counts


@bp.get("/")
def overview():
    """Show the tenant's counts, webhook health, and leads and bookings per day over 30 days."""
    tenant_id = current_user.tenant_id
    days = chart_days()
    return render_template(
        "console/overview.html", counts=tenant_counts(tenant_id),
        leads_chart=stack_chart(leads_per_day(tenant_id, days), LEAD_COLOURS),
        bookings_chart=stack_chart(bookings_per_day(tenant_id, days), BOOKING_COLOURS))
