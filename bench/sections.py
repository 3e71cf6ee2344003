"""The sections of docs/benchmarks.md, one per phase of the run."""
from pathlib import Path

import endpoints
import seed
from tables import failures, ms, percent, serving, table
from plot import PLOT

# Hand-written: what each change of the speed work bought, measured with bench/quick.py.
SPEED_WORK = Path(__file__).resolve().parent / "speed-work.md"
PROFILE_LINES = 70


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

gunicorn workers, {serving(plan)},
serving vorel-lite (`app:create_app()`) on one SQLite file (WAL), and the ceiling:
[a bare Flask route](../bench/bare_app.py) returning a constant JSON, served the same way
with the same workers. Load from
`wrk -t{plan['threads']} -c{plan['connections']} -d{plan['duration']}s` on loopback, after a
{plan['warmup']} s warm-up run (not counted), with
[wrk_request.lua](../bench/wrk_request.lua): {plan['keys']} API keys in turn; lead creates
each for a conversation that has no lead yet (pre-created in bulk); reads, updates, handoffs
and messages over {plan['http_leads']:,} seeded leads and their conversations. The rate
limits are raised out of the way (`VOREL_RATELIMIT_PER_KEY`/`PER_TENANT`), but the limiter
still runs on every request.
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
reach that, the cores are the limit, not the number of workers.

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
separates `POST /api/v1/leads` from it is what vorel-lite adds to a create. The third is the
floor of a read: a bare route selecting the lead by id and tenant with sqlite3 and answering
it as JSON, the same way bare, against which `GET /api/v1/leads/{{id}}` is measured. Each
is followed by its pipeline floor ([bench/pipeline_floor.py](../bench/pipeline_floor.py)):
the same sqlite3 work as the view of a route the bench adds to its own vorel-lite app, behind
the key check, scope, rate limiter, request log and every other hook of the real endpoint
(the create's also once more with its body validated as `POST /api/v1/leads` validates it);
the section on issue 11 above gives, per target, the endpoint and its pipeline floor as
multiples of the bare route.

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
    everything = parts[0]
    # A run from before the pipeline floors measured only the endpoints.
    names = [endpoint.name for endpoint in endpoints.PART_ENDPOINTS if endpoint.name in everything]
    rows = [["everything on" if row is everything else f"without {row['part']}"]
            + [f"{row[name]:.0f}" + ("" if row is everything
                                     else f" ({everything[name] - row[name]:+.0f})")
               for name in names]
            for row in parts]
    settings = "; ".join(f"{part}: `{', '.join(f'{k}={v}' for k, v in s.items())}`"
                         for part, s in endpoints.PARTS)
    return f"""### What some parts cost

µs per request (mean) in-process, the same way, of the two headline endpoints and of their
pipeline floors, with everything on and with one part turned off by a setting
({settings}). In brackets, what the part costs: the time with everything on minus the time
without it (a few µs either way are noise).

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

One gunicorn worker (`-w 1`, {serving(plan)}) on the HTTP benchmarks'
database, driven by wrk with the endpoints in turn, up to 5 s each,
`GET /api/v1/leads/{{id}}` twice per round (a read-heavy mix), to at least
{plan['memory_requests']:,} requests; its `VmRSS` and `VmHWM` (peak resident set) from
`/proc/<worker pid>/status`.

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
