"""The benchmarks' document (docs/benchmarks.md) and plot (docs/latency-vs-size.png)."""
import sys
from pathlib import Path

import endpoints
from tables import failures, ms, percent, table
from plot import PLOT, plot
from postgres_section import postgres_headline, postgres_section
from references_section import references_headline, references_section
from sections import (SPEED_WORK, growth_section, http_section, inprocess_section,
                      load_section, memory_section)

DOCUMENT = "benchmarks.md"
# A deep page slower than this many times the first page means keyset pagination is broken.
DEEP_PAGE_TOLERANCE = 2.0


def findings(results):
    notes = []
    http = results["http"]
    for row in http + results["unloaded"]:
        if row["failed"]:
            notes.append(f"**{row['endpoint']}** had failed requests ({failures(row)}) "
                         f"with {row.get('workers', 1)} worker(s).")
    growth = results["growth"]
    last = growth[-1]
    first, deep = last["first page"]["p50"], last["deep page"]["p50"]
    ratios = " / ".join(f"{row['deep page']['p50'] / row['first page']['p50']:.2f}x"
                        for row in growth)
    sizes = " / ".join(f"{row['size']:,}" for row in growth)
    if deep > DEEP_PAGE_TOLERANCE * first:
        notes.append(f"**Bug: a deep page is {deep / first:.1f}x slower than the first page** "
                     f"at {last['size']:,} leads (p50 {ms(deep)} ms against {ms(first)} ms; "
                     f"{ratios} at {sizes} leads): keyset pagination should make them cost "
                     "the same; see the query plans below.")
    else:
        notes.append(f"A deep page costs what the first page costs, at every size: p50 "
                     f"{ratios} the first page's at {sizes} leads ({ms(deep)} against "
                     f"{ms(first)} ms at {last['size']:,}). The page query is an index range "
                     "scan (plans below); the constant extra of a deep page is one more query, "
                     "the cursor's row by primary key.")
    growth = results["growth"]
    create = endpoints.GROWTH[0].name
    grew = growth[-1][create]["p50"] / growth[0][create]["p50"]
    notes.append(f"Lead creation p50 went from {ms(growth[0][create]['p50'])} ms at "
                 f"{growth[0]['size']:,} leads to {ms(growth[-1][create]['p50'])} ms at "
                 f"{growth[-1]['size']:,} ({grew:.1f}x).")
    inproc = {row["endpoint"]: row for row in results["inprocess"]}
    create = inproc.get(endpoints.ENDPOINTS[0].name)
    floor = inproc.get(endpoints.FLOOR.name)
    if create and floor:
        notes.append(f"In-process, `{create['endpoint']}` runs at {percent(create['ratio'])} "
                     "of the bare route's throughput (issue 4's goal: at least 50%). The bare "
                     "create, which only parses the body and commits the same lead and event "
                     f"with sqlite3, runs at {percent(floor['ratio'])}: no create that commits "
                     "its rows to SQLite reaches the goal on this stack. vorel-lite's create "
                     f"costs {floor['rps'] / create['rps']:.1f}x the bare create; the profile "
                     "below shows where its time goes.")
    samples = results["memory"]["samples"]
    if len(samples) >= 3:
        trend = (samples[-1]["VmHWM"] - samples[-2]["VmHWM"]) / 1024
        notes.append(f"Peak RSS of one worker after {samples[-1]['requests']:,} requests: "
                     f"{samples[-1]['VmHWM'] / 1024:.1f} MiB ({trend:+.1f} MiB between "
                     f"{samples[-2]['requests']:,} and {samples[-1]['requests']:,} requests).")
    busy = {name: load["other_share"] for name, load in results["load"].items()
            if load["other_share"] > 0.10 and load["elapsed"] >= 10}
    if busy:
        notes.append("Other processes used the machine during the run ("
                     + ", ".join(f"{percent(share)} of it during {name}"
                                 for name, share in busy.items())
                     + "): the figures of those phases are lower than an idle machine's.")
    else:
        worst = max(load["other_share"] for load in results["load"].values()
                    if load["elapsed"] >= 10)
        notes.append(f"The machine was nearly idle otherwise: other processes used at most "
                     f"{percent(worst)} of it in any phase (see the end of this page).")
    return "\n".join(f"- {note}" for note in notes)


def headline(results):
    by = {(row["endpoint"], row["workers"]): row for row in results["http"]}
    workers = results["plan"]["workers"]
    lines = []
    for endpoint in endpoints.HEADLINE:
        cells = []
        for w in workers:
            row = by.get((endpoint.name, w))
            if row:
                cells.append(f"{row['rps']:.0f} req/s at {w}w (p50 {ms(row['p50'])} / "
                             f"p99 {ms(row['p99'])} ms, {percent(row['ratio'])} of bare)")
        lines.append(f"- `{endpoint.name}`: " + "; ".join(cells))
    bare = [f"{by[(endpoints.BARE.name, w)]['rps']:.0f}" for w in workers
            if (endpoints.BARE.name, w) in by]
    lines.append(f"- bare route: {' / '.join(bare)} req/s at "
                 f"{' / '.join(str(w) for w in workers)} workers")
    if postgres_headline(results):
        lines.append(postgres_headline(results))
    if references_headline(results):
        lines.append(references_headline(results))
    shown = {endpoint.name for endpoint in (endpoints.FLOOR, endpoints.PIPELINE_CREATE,
                                            endpoints.BARE_READ, endpoints.PIPELINE_READ,
                                            *endpoints.HEADLINE)}
    inproc = ", ".join(f"`{row['endpoint']}` {percent(row['ratio'])}"
                       for row in results["inprocess"] if row["endpoint"] in shown)
    lines.append(f"- in-process, share of the bare route's throughput: {inproc}")
    lines.append("- every other operation is in the tables below: over HTTP "
                 f"{span(results['http'], shown)} of the bare route, in-process "
                 f"{span(results['inprocess'], shown | {endpoints.BARE.name})}")
    return "\n".join(lines)


def span(rows, leave_out):
    """The lowest and the highest ratio to the bare route of rows not in leave_out."""
    ratios = [row["ratio"] for row in rows
              if row["endpoint"] not in leave_out and row["endpoint"] != endpoints.BARE.name]
    return f"{percent(min(ratios))}-{percent(max(ratios))}" if ratios else "none"


def document(results):
    m = results["machine"]
    plan = results["plan"]
    packages = ", ".join(f"{name} {v}" for name, v in m["packages"].items())
    quick = ("\n> **Quick run** (`--quick`): short runs and small sizes, for checking the "
             "script only. Not representative.\n" if results.get("quick") else "")
    return f"""# Benchmarks

Generated by `make bench` ([bench/run.py](../bench/run.py)) on {m['date']}; the whole run
took {results['elapsed'] / 60:.1f} minutes. One run on one machine: compare figures within
this page, and rerun `make bench` before comparing with another. What is measured is listed
in [bench/endpoints.py](../bench/endpoints.py), one line per endpoint.
{quick}
| | |
| --- | --- |
| machine | {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']} |
| Python / SQLite | {m['python']} / {m['sqlite']} |
| packages | {packages} |
| load generator | {m['wrk']}, on the same {m['cores']} cores, loopback |
| load average at the start (1/5/15 min) | {m['load_at_start']} |

## Headline

{headline(results)}

## Findings

{findings(results)}

{http_section(results)}
{postgres_section(results)}
{references_section(results)}
{inprocess_section(results)}
{SPEED_WORK.read_text(encoding="utf-8")}
{growth_section(results)}
{memory_section(results)}
{load_section(results)}
## Parameters

{table(["parameter", "value"], [[name, value] for name, value in plan.items()])}

Run it again with `make bench` (installs the `bench` extra and wrk, then runs
`.venv/bin/python bench/run.py`); `bench/run.py --quick --docs /tmp/x` is a smoke run of a
few minutes that leaves this page alone. To judge one change, `.venv/bin/python bench/quick.py`
measures the in-process table alone in about a minute. The PostgreSQL section uses the server
at `VOREL_BENCH_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/postgres`; it
creates and drops a database of its own there) and Redis at `VOREL_BENCH_REDIS_URL` (default
`redis://127.0.0.1:6379/0`); without them it says "Skipped" and why.
"""


def write(results, docs):
    """Write the document and the plot into docs; return the document's text."""
    text = document(results)
    (docs / DOCUMENT).write_text(text, encoding="utf-8")
    plot(results, docs / PLOT)
    return text


if __name__ == "__main__":  # re-render from a saved results file
    import json

    saved = json.loads(Path(sys.argv[1]).read_text())
    print(write(saved, Path(sys.argv[2] if len(sys.argv) > 2 else "docs")))
