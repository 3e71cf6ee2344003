"""The benchmarks' document (docs/benchmarks.md) and plot (docs/latency-vs-size.png)."""
import os
import platform
import sqlite3
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import endpoints
import seed

PLOT = "latency-vs-size.png"
# Hand-written: what each change of the speed work bought, measured with bench/quick.py.
SPEED_WORK = Path(__file__).resolve().parent / "speed-work.md"
DOCUMENT = "benchmarks.md"
# A deep page slower than this many times the first page means keyset pagination is broken.
DEEP_PAGE_TOLERANCE = 2.0
PROFILE_LINES = 70


def load_average():
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def machine(wrk):
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {name: version(name) for name in
                     ("flask", "werkzeug", "peewee", "marshmallow", "flask-limiter",
                      "gunicorn")},
        "wrk": wrk,
        "load_at_start": load_average(),
    }


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value):
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def percent(ratio):
    return f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}"


def failures(row):
    return "0" if not row["failed"] else ", ".join(
        f"{n} {kind}" for kind, n in row["errors"].items() if n)


def http_section(results):
    plan = results["plan"]
    rows = []
    for row in results["http"]:
        rows.append([row["endpoint"], row["workers"], f"{row['rps']:.0f}", ms(row["p50"]),
                     ms(row["p99"]), percent(row["ratio"]), f"{row['requests']}",
                     failures(row), ms(row["server_cpu_ms"]), f"{row['server_cores']:.2f}",
                     f"{row['wrk_cores']:.2f}"])
    by_endpoint = {}
    for row in results["http"]:
        by_endpoint.setdefault(row["endpoint"], {})[row["workers"]] = row
    workers = plan["workers"]
    summary = [[name] + [f"{cells[w]['rps']:.0f} ({percent(cells[w]['ratio'])})"
                         if w in cells else "" for w in workers]
               for name, cells in by_endpoint.items()]
    unloaded = [[row["endpoint"], f"{row['rps']:.0f}", ms(row["p50"]), ms(row["p90"]),
                 ms(row["p99"]), failures(row), ms(row["server_cpu_ms"])]
                for row in results["unloaded"]]
    return f"""## Throughput and latency over HTTP

gunicorn sync workers serving vorel-lite (`app:create_app()`) on one SQLite file (WAL), and
the ceiling: [a bare Flask route](../bench/bare_app.py) returning a constant JSON, served the
same way with the same workers. Load from
`wrk -t{plan['threads']} -c{plan['connections']} -d{plan['duration']}s` on loopback, after a
{plan['warmup']} s warm-up run (not counted), with
[wrk_request.lua](../bench/wrk_request.lua): {plan['keys']} API keys in turn, creates each for
a conversation that has no lead yet (pre-created in bulk), reads over
{plan['http_leads']:,} seeded leads. The rate limits are raised out of the way
(`VOREL_RATELIMIT_PER_KEY`/`PER_TENANT`), but the limiter still runs on every request.
**Ratio** = the endpoint's requests per second / the bare route's at the same number of
workers: what is left after everything vorel-lite adds (auth, limiter, validation,
transaction, events, request log).

Requests per second (ratio to the bare route):

{table(["endpoint"] + [f"{w} worker{'s' if w > 1 else ''}" for w in workers], summary)}

All runs:

{table(["endpoint", "workers", "req/s", "p50 ms", "p99 ms", "ratio to bare", "requests",
        "failed", "server CPU ms/req", "server cores", "wrk cores"], rows)}

"server CPU ms/req" is the CPU time gunicorn's master and workers used per request (from
`/proc/<pid>/stat`): the cost of a request whatever the concurrency. "server cores" and
"wrk cores" are the CPU each side used per second of the run. The machine has
{results['machine']['cores']} cores, shared by the workers and wrk: where the two together
reach that, the cores are the limit, not the number of workers. gunicorn's sync workers close
the connection after every answer, so wrk connects anew for every request.

wrk is a closed loop: {plan['connections']} connections each wait for their answer, so under
this saturating load p50 is mostly queueing (about connections / throughput). The latency of
one request on an otherwise idle server, `wrk -t1 -c1 -d{plan['unloaded_duration']}s`,
1 worker:

{table(["endpoint", "req/s", "p50 ms", "p90 ms", "p99 ms", "failed", "server CPU ms/req"],
        unloaded)}

"failed" counts socket errors and answers other than 2xx/3xx (wrk's own accounting); every
create must answer 201 and every read 200.
"""


def inprocess_section(results):
    plan = results["plan"]
    rows = [[row["endpoint"], f"{row['rps']:.0f}", f"{1e6 / row['rps']:.0f}",
             ms(row["p50"]), ms(row["p99"]), percent(row["ratio"])]
            for row in results["inprocess"]]
    profile = results["profile"]
    tree = trim(without_logo(profile["pyinstrument"]), PROFILE_LINES)
    return f"""## In-process cost per request

The Flask test client, one thread, no network and no server, on the same database (file,
WAL) and settings. After 50 untimed requests each, each is sent back to back in blocks of
half a second, the blocks of the bare route and of every endpoint in turn, for
{plan['inprocess_seconds']:g} s each in all; req/s = 1 / mean time per request. The request
log is formatted and written to /dev/null. The test client's own cost (building the WSGI
environ, reading the response) is in every row, the bare route's included.

The second row is the floor of a create: [a bare route](../bench/bare_app.py) that parses
the same body and writes the same lead and `lead.created` event in one transaction with
sqlite3 and hand-written SQL, with vorel-lite's SQLite settings, and answers the lead; no
authentication, rate limit, validation, ORM, request log or webhook fan-out. Whatever
separates `POST /api/v1/leads` from it is what vorel-lite adds to a create.

{table(["endpoint", "req/s", "µs/request (mean)", "p50 ms", "p99 ms", "ratio to bare"],
        rows)}

{parts_section(results)}

### Where the time of POST /api/v1/leads goes

pyinstrument, {profile['requests']} creates in-process (library frames folded; the
percentages of the tree are of the whole run):

```text
{tree}
```

cProfile, the same number of creates, top entries by own time (tottime):

```text
{trim(profile['cprofile'].strip(), 45)}
```
"""


def parts_section(results):
    """What some parts of vorel-lite cost a request, measured by turning each off."""
    parts = results.get("parts")
    if not parts:
        return ""
    names = [endpoint.name for endpoint in endpoints.PART_ENDPOINTS]
    everything = parts[0]
    rows = [["everything on" if row is everything else f"without {row['part']}"]
            + [f"{row[name]:.0f}" + ("" if row is everything
                                     else f" ({everything[name] - row[name]:+.0f})")
               for name in names]
            for row in parts]
    settings = "; ".join(f"{part}: `{', '.join(f'{k}={v}' for k, v in s.items())}`"
                         for part, s in endpoints.PARTS)
    return f"""### What some parts cost

µs per request (mean) in-process, the same way, with everything on and with one part
turned off by a setting ({settings}). In brackets, what the part costs: the time with
everything on minus the time without it (a few µs either way are noise).

{table(["", *names], rows)}
"""


def without_logo(text):
    """pyinstrument's text output without its three-line ASCII logo (keeping the figures)."""
    lines = text.strip("\n").splitlines()
    head = []
    for line in lines[:3]:
        found = [line.find(word) for word in ("Recorded:", "Duration:") if word in line]
        if found:
            head.append(line[min(found):])
    return "\n".join(head + lines[3:])


def trim(text, lines):
    kept = [line.rstrip() for line in text.strip("\n").splitlines() if line.strip()]
    if len(kept) > lines:
        kept = kept[:lines] + [f"... ({len(kept) - lines} more lines)"]
    return "\n".join(kept)


def growth_section(results):
    plan = results["plan"]
    names = [e.name for e in endpoints.GROWTH]
    rows = []
    for row in results["growth"]:
        cells = [f"{row['size']:,}", f"{row['mb']:,.0f}"]
        for name in names:
            cells.append(f"{ms(row[name]['p50'])} / {ms(row[name]['p99'])}")
        rows.append(cells)
    plans = []
    for name, entries in results.get("plans", {}).items():
        for entry in entries:
            if '"leads"' not in entry["sql"]:
                continue  # the key's lookup, the same for every request
            plans.append(f"-- {name}\n{entry['sql']}\n" +
                         "\n".join(f"  => {step}" for step in entry["plan"]))
    plan_text = "\n\n".join(plans) or "(none captured)"
    return f"""## Growth with the database's size

One database per size, seeded with bulk SQL ([seed.py](../bench/seed.py): `INSERT ...
SELECT` over a recursive CTE, straight into the tables of schema.sql): that many leads of
one tenant, each with its conversation and its `lead.created` event, plus
{plan['growth_fresh']:,} conversations without a lead for the creates. Then, in-process
(test client, one app per database), {plan['growth_requests']} timed requests of each kind
and size after 20 untimed ones, the sizes and kinds in turn (one request each per round):
a lead creation, the first page of `GET /api/v1/leads?limit=25` and a deep page: its
cursor is the lead with only {seed.DEEP_CURSOR_INDEX} older ones, at the far end of the keyset order
(newest first). No `ANALYZE`: the app never runs it, so the planner has no statistics,
as in production.

p50 / p99 in milliseconds:

{table(["leads", "database MB"] + names, rows)}

![latency against database size]({PLOT})

The queries of the first and the deep page at {plan['growth_sizes'][-1]:,} leads, as peewee
sent them, with SQLite's `EXPLAIN QUERY PLAN`:

```text
{plan_text}
```
"""


def memory_section(results):
    memory = results["memory"]
    plan = results["plan"]
    rows = [[f"{s['requests']:,}" if s["requests"] > 1 else "after boot (1 request)",
             f"{s['VmRSS'] / 1024:.1f}", f"{s['VmHWM'] / 1024:.1f}"]
            for s in memory["samples"]]
    return f"""## Memory

One gunicorn sync worker (`-w 1`) on the HTTP benchmarks' database, driven by wrk with the
endpoints in turn, up to 5 s each, `GET /api/v1/leads/{{id}}` twice per round (a read-heavy
mix), to at least {plan['memory_requests']:,}
requests; its `VmRSS` and `VmHWM` (peak resident set) from `/proc/<worker pid>/status`.

{table(["requests served", "RSS MiB", "peak RSS (VmHWM) MiB"], rows)}
"""


def load_section(results):
    rows = [[name, f"{load['elapsed']:.0f}", f"{load['own_cpu_seconds']:.0f}",
             f"{load['other_cpu_seconds']:.0f}", percent(load["other_share"])]
            for name, load in results["load"].items()]
    return f"""## How busy the machine was

CPU time used during each phase by this run (its processes: the script, gunicorn, wrk) and by
every other process of the machine (from `/proc/stat`), against the phase's wall-clock
time. The figures on this page are only as clean as the last column is small.

{table(["phase", "seconds", "this run's CPU s", "others' CPU s", "others' share of the machine"],
        rows)}
"""


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
    for endpoint in endpoints.ENDPOINTS:
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
    inproc = ", ".join(f"`{row['endpoint']}` {percent(row['ratio'])}"
                       for row in results["inprocess"][1:])
    lines.append(f"- in-process, share of the bare route's throughput: {inproc}")
    return "\n".join(lines)


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
{inprocess_section(results)}
{SPEED_WORK.read_text(encoding="utf-8")}
{growth_section(results)}
{memory_section(results)}
{load_section(results)}
## Parameters

{table(["parameter", "value"], [[name, value] for name, value in plan.items()])}

Run it again with `make bench` (installs the `bench` extra and wrk, then runs
`.venv/bin/python bench/run.py`); `bench/run.py --quick --docs /tmp/x` is a two-minute smoke
run that leaves this page alone. To judge one change, `.venv/bin/python bench/quick.py`
measures the in-process table alone in about a minute.
"""


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = [row["size"] for row in results["growth"]]
    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=110)
    styles = {0: ("tab:red", "o"), 1: ("tab:blue", "s"), 2: ("tab:green", "^")}
    for index, endpoint in enumerate(endpoints.GROWTH):
        color, marker = styles.get(index, ("tab:gray", "x"))
        p50 = [row[endpoint.name]["p50"] for row in results["growth"]]
        p99 = [row[endpoint.name]["p99"] for row in results["growth"]]
        label = "lead creation (POST)" if index == 0 else f"{endpoint.name} (GET, limit=25)"
        axes.plot(sizes, p50, color=color, marker=marker, linewidth=2, label=f"{label} p50")
        axes.plot(sizes, p99, color=color, marker=marker, linewidth=1, linestyle="--",
                  alpha=0.6, label=f"{label} p99")
    axes.set_xscale("log")
    axes.set_xticks(sizes)
    axes.set_xticklabels([f"{size:,}" for size in sizes])
    axes.set_ylim(bottom=0)
    axes.set_xlabel("leads in the database (log scale)")
    axes.set_ylabel("latency per request, ms (in-process)")
    axes.set_title(f"vorel-lite: latency against database size "
                   f"({results['machine']['date'][:10]}, {results['machine']['cores']} cores)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


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
