"""A stacked bar chart of counts per day, laid out as SVG shapes for a template to draw."""
from typing import NamedTuple

WIDTH, HEIGHT = 600, 180
# Room under the bars for the day labels, and over them for the top count.
BOTTOM, TOP = 20, 14
GAP = 2
# One colour per status (Tableau 10), distinguishable with the common colour-vision
# deficiencies; a booking's confirmed is the green of a lead's booked.
LEAD_COLOURS = {"new": "#4e79a7", "qualified": "#f28e2b", "booked": "#59a14f",
                "converted": "#b07aa1", "lost": "#9c9c9c"}
BOOKING_COLOURS = {"confirmed": "#59a14f", "rescheduled": "#edc948", "completed": "#4e79a7",
                   "no_show": "#e15759", "cancelled": "#9c9c9c"}


class Bar(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


class Chart(NamedTuple):
    width: int
    height: int
    bars: list
    labels: list  # (x, text, text-anchor) under the bars
    top: int  # the count the full height stands for
    baseline: float
    total: int  # of every day and series
    legend: list  # (series name, colour), in stacking order


def stack_chart(per_day, colours):
    """Lay out {day: {series: count}} as stacked bars, one per day, oldest on the left.

    colours: {series: colour}, in stacking order from the baseline up, which the legend keeps;
    a series of per_day missing from it is neither drawn nor counted.
    """
    days = list(per_day)
    totals = [sum(counts.get(series, 0) for series in colours) for counts in per_day.values()]
    top = max(totals + [1])
    slot = WIDTH / max(len(days), 1)
    plot_height = HEIGHT - BOTTOM - TOP
    baseline = HEIGHT - BOTTOM
    bars = []
    for index, day in enumerate(days):
        y = baseline
        for series, colour in colours.items():
            count = per_day[day].get(series, 0)
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            bars.append(Bar(round(index * slot + GAP / 2, 2), round(y, 2),
                            round(slot - GAP, 2), round(height, 2), colour,
                            f"{day}: {count} {series_name(series)}"))
    # The first, middle and last days, as MM-DD, the outer two kept inside the picture.
    labels = []
    if days:
        labels = [(0, days[0][5:], "start"),
                  (round(WIDTH / 2, 2), days[len(days) // 2][5:], "middle"),
                  (WIDTH, days[-1][5:], "end")]
    legend = [(series_name(series), colour) for series, colour in colours.items()]
    return Chart(WIDTH, HEIGHT, bars, labels, top, baseline, sum(totals), legend)


def series_name(series):
    """Return a series' key as words: no_show -> no show."""
    return series.replace("_", " ")
