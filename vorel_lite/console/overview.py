"""GET /: the tenant at a glance."""
from flask import render_template
from flask_login import current_user

from .blueprint import bp
from .chart import COLOURS, stack_chart
from .glance import chart_days, leads_per_day, tenant_counts


@bp.get("/")
def overview():
    """Show the tenant's counts, webhook health, and leads per day over 30 days."""
    tenant_id = current_user.tenant_id
    per_day = leads_per_day(tenant_id, chart_days())
    return render_template("console/overview.html", counts=tenant_counts(tenant_id),
                           chart=stack_chart(per_day), colours=COLOURS,
                           leads_in_chart=sum(sum(day.values()) for day in per_day.values()))
