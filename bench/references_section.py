"""docs/benchmarks.md's section of issue 11's comparisons: the floors and the other servers."""
import statistics

import endpoints
from tables import ms, serving, table

HEADING = "## Against the floors and other servers (issue 11)"
# In-process, per target: (the endpoint, its bare floor, its pipeline floor, its pipeline
# floor with the body validated or None, the target for endpoint / bare); a cost is
# one kind's µs per request over another's.
FLOORS = ((endpoints.ENDPOINTS[0].name, endpoints.FLOOR.name, endpoints.PIPELINE_CREATE.name,
           endpoints.VALIDATED_CREATE.name, "<= 1.5x"),
          (endpoints.ENDPOINTS[1].name, endpoints.BARE_READ.name, endpoints.PIPELINE_READ.name,
           None, "<= 2.0x"))
FLOOR_HEADER = ["endpoint", "target", "vorel-lite / bare", "pipeline floor / bare",
                "validated floor / bare", "vorel-lite / pipeline floor", "met"]
# Over HTTP, ratio = vorel-lite's req/s / the reference's, within each round; the floor is
# the pipeline floor's (the create's with its body validated) over the same reference's.
FLOOR_SUBJECT = "pipeline floor"
COMPARISONS = ((("vorel-lite", "create"), ("Prism", "create"), ">= 1.0x"),
               (("vorel-lite", "create"), ("json-server", "create"), ">= 3x (keep)"),
               (("vorel-lite", "read"), ("json-server", "read"), ">= 1.0x"))


def floor_costs(inprocess):
    """(endpoint, bare floor, target, [ours / bare, pipeline / bare, validated pipeline /
    bare, ours / pipeline]) per target whose endpoint and bare floor were measured; None for
    a cost not measured."""
    by = {row["endpoint"]: row for row in inprocess}

    def cost(name, reference):
        if name not in by or reference not in by:
            return None
        ours, theirs = by[name].get("round_means"), by[reference].get("round_means")
        if ours and theirs and len(ours) == len(theirs):
            # The median over the rounds of the ratio within each: a burst of other work
            # weighs on one round's pair alike, where it would skew the means of the whole run.
            return statistics.median(a / b for a, b in zip(ours, theirs))
        return by[reference]["rps"] / by[name]["rps"]  # a run from before the rounds were kept

    return [(name, bare, target,
             [cost(name, bare), cost(pipeline, bare), cost(validated, bare),
              cost(name, pipeline)])
            for name, bare, pipeline, validated, target in FLOORS
            if cost(name, bare) is not None]


def times(cost):
    return "-" if cost is None else f"{cost:.2f}x"


def floor_rows(inprocess):
    """A row of FLOOR_HEADER per target measured in the in-process rows."""
    return [[f"`{name}` / {bare}", target, *map(times, costs),
             verdict(costs[0], costs[1], costs[2], bound(target))]
            for name, bare, target, costs in floor_costs(inprocess)]


def bound(target):
    """The number of a target such as "<= 1.5x" or ">= 3x (keep)"."""
    return float(target.split()[1].rstrip("x"))


def verdict(ours, floor, validated, target):
    """Whether an at-most target is met and, if not, what stops it: a floor or our own code."""
    if ours <= target:
        return "yes"
    if validated is not None and validated > target:
        return f"no: the pipeline floor with the body validated alone is {validated:.2f}x"
    if floor is not None and floor > target:
        return f"no: the pipeline floor alone is {floor:.2f}x"
    if floor is None:
        return "no"
    return f"no: the endpoint's own code (the pipeline floor is {floor:.2f}x)"


def spread(values, digits=2, unit=""):
    """The median, and the range when there are several values."""
    median = f"{statistics.median(values):.{digits}f}{unit}"
    if len(values) < 2:
        return median
    return f"{median} ({min(values):.{digits}f}-{max(values):.{digits}f}{unit})"


def reference_rows(references):
    """[subject, operation, req/s, p50, p99, failed, server cores] medians over the rounds."""
    runs = {}
    for row in references["rows"]:
        runs.setdefault((row["subject"], row["operation"]), []).append(row)
    return [[subject, operation, spread([r["rps"] for r in rows], 0),
             ms(statistics.median(r["p50"] for r in rows)),
             ms(statistics.median(r["p99"] for r in rows)),
             str(sum(r["failed"] for r in rows)),
             f"{statistics.median(r['server_cores'] for r in rows):.2f}"]
            for (subject, operation), rows in runs.items()]


def ratio_rows(references):
    """[comparison, ratio median (range), floor's ratio, target, met] of vorel-lite against
    each reference, with the pipeline floor's ratio to the same reference where measured."""
    rps = {(row["subject"], row["operation"], row["round"]): row["rps"]
           for row in references["rows"]}
    rounds = sorted({row["round"] for row in references["rows"]})

    def ratios(ours, theirs):
        return [rps[(*ours, n)] / rps[(*theirs, n)] for n in rounds
                if (*ours, n) in rps and (*theirs, n) in rps]

    lines = []
    for ours, theirs, target in COMPARISONS:
        measured = ratios(ours, theirs)
        if not measured:
            continue
        floor = ratios((FLOOR_SUBJECT, ours[1]), theirs)
        median, least = statistics.median(measured), bound(target)
        if median >= least:
            met = "yes"
        elif floor and statistics.median(floor) < least:
            met = f"no: the pipeline floor alone is {statistics.median(floor):.2f}x"
        else:
            met = "no: vorel-lite's own code" if floor else "no"
        lines.append([f"{' '.join(ours)} / {' '.join(theirs)}", spread(measured, unit="x"),
                      spread(floor, unit="x") if floor else "-", target, met])
    return lines


def references_headline(results):
    """One line of the headline, or "" when neither part was measured."""
    parts = []
    floors = floor_costs(results.get("inprocess", []))
    if floors:
        parts.append("in-process " + ", ".join(
            f"`{name}` {times(ours)} the {bare} (pipeline floor {times(floor)}"
            + (f", with the body validated {times(validated)}" if validated else "")
            + f", own code {times(own)})" for name, bare, _, (ours, floor, validated, own)
            in floors))
    references = results.get("references")
    if references and "skipped" not in references:
        parts.append("over HTTP " + ", ".join(f"{name} {ratio.split()[0]}"
                                              for name, ratio, *_ in ratio_rows(references)))
    elif references:
        parts.append("Prism and json-server skipped")
    return f"- issue 11: {'; '.join(parts)}" if parts else ""


def references_section(results):
    """The section: the in-process floors, then the HTTP references (or why they were not run)."""
    plan = results["plan"]
    floors = floor_rows(results.get("inprocess", []))
    floor_table = table(FLOOR_HEADER, floors) if floors else "(not measured in this run)"
    references = results.get("references")
    if not references:
        http_part = "(not measured in this run)"
    elif "skipped" in references:
        http_part = f"**Skipped:** {references['skipped']}."
    else:
        versions = ", ".join(f"{name} {v}" for name, v in references["versions"].items())
        http_part = f"""{versions}. vorel-lite on gunicorn with {references['workers']} workers,
{serving(references)}, and the HTTP section's settings (rate limits raised, the limiter still
run). Load
from `wrk -t{plan['threads']} -c{plan['connections']} -d{plan['duration']}s` after a
{plan['warmup']} s warm-up; {references['rounds']} round(s), the seven runs in turn within
each, on the same cores as everything else. Prism (`prism mock`, its defaults: static
examples, `info` logging) serves the document vorel-lite serves at `/api/v1/openapi.json`,
and checks each create's bearer header and body against it; it stores nothing. json-server
(its defaults, one Node.js process, a log line per request) starts every round on a fresh
file of {references['json_server_rows']:,} leads shaped as vorel-lite's; a create (`POST
/leads`) rewrites the file; a read is `GET /leads/:id`.
Medians over the rounds, with the range:

{table(["server", "operation", "req/s", "p50 ms", "p99 ms", "failed", "server cores"],
        reference_rows(references))}

{table(["vorel-lite / reference", "ratio of req/s", "pipeline floor / reference", "target",
        "met"], ratio_rows(references))}"""
    return f"""{HEADING}

In-process, measured as in the in-process section below and in the same run as the rest of
this section: what `POST /api/v1/leads` and `GET /api/v1/leads/{{id}}` cost against the bare
create and the bare read of [bench/bare_app.py](../bench/bare_app.py), which do with sqlite3
only what no create or read can skip, and against their pipeline floors
([bench/pipeline_floor.py](../bench/pipeline_floor.py)): vorel-lite's app with every hook
(key check, rate limiter and its headers, request log, the same scope) around exactly the
bare route's sqlite3 work. Each cost is one kind's mean µs per request over another's within
each round of blocks (the two measured side by side), the median over the rounds.
**pipeline floor / bare** is what no change to the create's or the read's own code can go
below while the pipeline stays; **validated floor / bare** is the create's pipeline floor with
its body loaded first as `POST /api/v1/leads` loads it (the JSON checks and the `LeadCreate`
marshmallow schema: every body is validated by one), what no create that validates can go
below; **vorel-lite / pipeline floor** is what the endpoint's own code costs (validation, ORM,
events). Where a target is not met, the last column says what stops it.

{floor_table}

Over HTTP, against the servers a user might pick instead
([bench/references.py](../bench/references.py); installed with `npm ci` from
[bench/reference/](../bench/reference/package.json) into `~/.cache/vorel-lite-bench/` the
first time; skipped, with a line saying why, when npm is missing or the install fails), each
beside the pipeline floor under the same gunicorn settings (the create's validated: what
vorel-lite's pipeline would reach with nothing else to do):

{http_part}
"""


def replace_section(document, section):
    """The document with its section of this module replaced (or put before the in-process
    section when it has none)."""
    start = document.find(HEADING)
    if start < 0:
        start = end = document.index("## In-process cost per request")
    else:
        end = document.find("\n## ", start + len(HEADING))
        end = len(document) if end < 0 else end + 1
    return document[:start] + section + "\n" + document[end:].lstrip("\n")
