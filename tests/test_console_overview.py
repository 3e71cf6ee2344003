"""The overview's charts: leads and bookings per day, counted in the query, drawn as SVG bars."""
import re
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, time, timedelta, timezone

import pytest

from console_helpers import add_booking, add_operator, sign_in
from vorel_lite.console.chart import (BOOKING_COLOURS, BOTTOM, HEIGHT, LEAD_COLOURS, TOP, WIDTH,
                                      stack_chart)
from vorel_lite.console.glance import bookings_per_day, chart_days
from vorel_lite.models import APPOINTMENT_STATUSES, Tenant, format_timestamp

OPERATOR = "ops@example.com"
TODAY = date(2030, 1, 30)


def tenant_id(app, slug):
    """Return the id of the tenant with slug."""
    with app.app_context():
        return Tenant.get(Tenant.slug == slug).id


def at(day, hour=12, minute=0, second=0, microsecond=0):
    """Return the stored timestamp of a moment of day (UTC)."""
    return format_timestamp(datetime.combine(day, time(hour, minute, second, microsecond),
                                             timezone.utc))


def chart_svg(page, chart_id):
    """Return the page's <svg id=chart_id> as an XML element."""
    match = re.search(rf'<svg id="{chart_id}".*?</svg>', page, re.DOTALL)
    return ElementTree.fromstring(match.group(0))


def drawn_bars(svg):
    """Return {title: height} of a chart's bars."""
    return {rect.findtext("title"): float(rect.get("height"))
            for rect in svg.iter("rect") if rect.get("class") == "bar"}


def test_bookings_per_day_counts_the_days_each_was_booked_by_status(app, client, auth,
                                                                    other_auth):
    first, last = date(2030, 1, 1), TODAY
    for created_at, status in [
            (at(first, 0), "confirmed"), (at(first, 9), "confirmed"),
            (at(date(2030, 1, 15)), "cancelled"), (at(date(2030, 1, 15), 13), "confirmed"),
            (at(date(2030, 1, 15), 14), "no_show"),
            (at(last, 23, 59, 59, 999999), "completed"),
            # Outside the 30 days: the instant before the first day, the one after the last.
            (at(first - timedelta(days=1), 23, 59, 59, 999999), "confirmed"),
            (at(last + timedelta(days=1), 0), "confirmed")]:
        add_booking(app, client, auth, created_at, status)
    for _ in range(3):
        add_booking(app, client, other_auth, at(date(2030, 1, 15)))
    with app.app_context():
        per_day = bookings_per_day(tenant_id(app, "acme"), chart_days(today=TODAY))
    assert list(per_day) == [(first + timedelta(days=n)).isoformat() for n in range(30)]
    none = dict.fromkeys(APPOINTMENT_STATUSES, 0)
    assert per_day.pop("2030-01-01") == {**none, "confirmed": 2}
    assert per_day.pop("2030-01-15") == {**none, "cancelled": 1, "confirmed": 1, "no_show": 1}
    assert per_day.pop("2030-01-30") == {**none, "completed": 1}
    assert all(counts == none for counts in per_day.values())


def test_the_overview_draws_bookings_per_day_of_the_operators_tenant(app, client, auth,
                                                                     other_auth):
    today = datetime.now(timezone.utc).date()
    two_days_ago = today - timedelta(days=2)
    for day, status in ((today, "confirmed"), (today, "confirmed"), (two_days_ago, "cancelled"),
                        (today - timedelta(days=30), "confirmed")):
        add_booking(app, client, auth, at(day, 0, 0, 1), status)
    add_booking(app, client, other_auth, at(today, 0, 0, 1))
    add_operator(app, OPERATOR, "acme")
    assert sign_in(client, OPERATOR).status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    bookings = chart_svg(page.text, "bookings-chart")
    assert bookings.get("aria-label") == "Bookings per day by status: 3 bookings in 30 days"
    bars = drawn_bars(bookings)
    assert set(bars) == {f"{today}: 2 confirmed", f"{two_days_ago}: 1 cancelled"}
    assert bars[f"{today}: 2 confirmed"] == pytest.approx(HEIGHT - BOTTOM - TOP)
    assert bars[f"{two_days_ago}: 1 cancelled"] == pytest.approx((HEIGHT - BOTTOM - TOP) / 2)
    assert "No bookings made in the last 30 days yet." not in page.text
    # The leads chart beside it is empty, and says so.
    assert drawn_bars(chart_svg(page.text, "leads-chart")) == {}
    assert "Leads per day by status: 0 leads in 30 days" in page.text
    assert "No leads in the last 30 days yet." in page.text
    for name in ("confirmed", "rescheduled", "completed", "no show", "cancelled"):
        assert f"</svg> {name}</span>" in page.text


def test_an_overview_without_bookings_says_so(app, client, auth):
    add_operator(app, OPERATOR, "acme")
    assert sign_in(client, OPERATOR).status_code == 303
    page = client.get("/").text
    assert drawn_bars(chart_svg(page, "bookings-chart")) == {}
    assert "No bookings made in the last 30 days yet." in page


def test_the_chart_stacks_each_days_counts_to_scale():
    per_day = {"2030-01-01": {"new": 2, "qualified": 0, "lost": 2},
               "2030-01-02": {"new": 0, "qualified": 1, "lost": 0},
               "2030-01-03": {"new": 0, "qualified": 0, "lost": 0}}
    chart = stack_chart(per_day, LEAD_COLOURS)
    assert chart.top == 4 and chart.total == 5
    new, lost, qualified = chart.bars
    assert (new.colour, lost.colour, qualified.colour) == (
        LEAD_COLOURS["new"], LEAD_COLOURS["lost"], LEAD_COLOURS["qualified"])
    assert new.label == "2030-01-01: 2 new" and qualified.label == "2030-01-02: 1 qualified"
    assert new.y + new.height == chart.baseline == HEIGHT - BOTTOM
    assert lost.y + lost.height == pytest.approx(new.y)
    assert new.height == pytest.approx(lost.height) == pytest.approx(2 * qualified.height)
    assert new.x < qualified.x < WIDTH
    assert [text for _, text, _ in chart.labels] == ["01-01", "01-02", "01-03"]
    assert stack_chart({"2030-01-01": {"new": 0}}, LEAD_COLOURS).bars == []


def test_the_chart_stacks_in_the_legends_order_and_names_series_in_words():
    chart = stack_chart({"2030-01-01": {"cancelled": 1, "no_show": 1, "confirmed": 2}},
                        BOOKING_COLOURS)
    assert [bar.label for bar in chart.bars] == [
        "2030-01-01: 2 confirmed", "2030-01-01: 1 no show", "2030-01-01: 1 cancelled"]
    assert [bar.colour for bar in chart.bars] == [
        BOOKING_COLOURS["confirmed"], BOOKING_COLOURS["no_show"], BOOKING_COLOURS["cancelled"]]
    # From the baseline up, each bar on the one before.
    assert [round(bar.y + bar.height, 2) for bar in chart.bars] == [
        chart.baseline, chart.bars[0].y, chart.bars[1].y]
    assert chart.legend == [("confirmed", "#59a14f"), ("rescheduled", "#edc948"),
                            ("completed", "#4e79a7"), ("no show", "#e15759"),
                            ("cancelled", "#9c9c9c")]
    assert chart.total == 4 and chart.top == 4
