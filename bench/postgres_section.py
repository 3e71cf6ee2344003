"""The PostgreSQL section of docs/benchmarks.md: SQLite and PostgreSQL side by side, and two
instances sharing PostgreSQL and Redis."""
from tables import failures, ms, percent, table

TITLE = "## PostgreSQL, and two instances"
BARE = ""  # the database label of the bare route's rows
SATURATED = 0.85  # share of the machine's cores above which a run is CPU-bound


def skipped_line(reason):
    return f"**Skipped:** {reason}."


def grouped(rows):
    """{(endpoint, database): {workers: row}}, the bare route first, then by endpoint."""
    endpoints, databases = [], []
    for row in rows:
        if row["endpoint"] not in endpoints:
            endpoints.append(row["endpoint"])
        if row["database"] not in databases:
            databases.append(row["database"])
    cells = {}
    for row in sorted(rows, key=lambda r: (r["database"] != BARE, endpoints.index(r["endpoint"]),
                                           databases.index(r["database"]))):
        cells.setdefault((row["endpoint"], row["database"]), {})[row["workers"]] = row
    return cells


def summary_table(rows, workers):
    """Requests per second (ratio to the bare route) per endpoint and database, per workers."""
    lines = [[endpoint, database or "-"]
             + [f"{by[w]['rps']:.0f} ({percent(by[w]['ratio'])})" if w in by else ""
                for w in workers]
             for (endpoint, database), by in grouped(rows).items()]
    return table(["endpoint", "database"] + [f"{w} worker{'s' if w > 1 else ''}"
                                             for w in workers], lines)


def cores(row, name):
    value = row.get(f"{name}_cores")
    return "" if value is None else f"{value:.2f}"


def runs_table(rows):
    lines = [[row["endpoint"], row["database"] or "-", row["workers"], f"{row['rps']:.0f}",
              ms(row["p50"]), ms(row["p99"]), percent(row["ratio"]), failures(row),
              f"{row['server_cores']:.2f}",
              cores(row, "postgresql") if row["database"] == "PostgreSQL" else "",
              f"{row['wrk_cores']:.2f}"]
             for row in rows]
    return table(["endpoint", "database", "workers", "req/s", "p50 ms", "p99 ms",
                  "ratio to bare", "failed", "gunicorn cores", "PostgreSQL cores", "wrk cores"],
                 lines)


def against_sqlite(rows, workers):
    """One sentence: PostgreSQL's throughput as a share of SQLite's, per endpoint."""
    by = {(row["endpoint"], row["database"], row["workers"]): row for row in rows}
    parts = []
    for w in workers:
        shares = [f"`{endpoint}` {percent(pg['rps'] / sqlite['rps'])}"
                  for (endpoint, database, n), pg in by.items()
                  if database == "PostgreSQL" and n == w
                  for sqlite in [by.get((endpoint, "SQLite", w))] if sqlite]
        if shares:
            parts.append(f"at {w} worker{'s' if w > 1 else ''}: " + ", ".join(shares))
    return ("PostgreSQL's throughput as a share of SQLite's, " + "; ".join(parts) + "."
            if parts else "")


def limits(rows, machine_cores):
    """What limits the PostgreSQL figures, from the CPU each side used."""
    pg = [row for row in rows if row["database"] == "PostgreSQL"]
    if not pg:
        return ""
    totals = [row["server_cores"] + row.get("postgresql_cores", 0) + row["wrk_cores"]
              for row in pg]
    text = (f"**What limits these figures:** the machine's {machine_cores} cores are shared by "
            "wrk, the gunicorn workers and PostgreSQL's backends, and by any other work of the "
            "machine (see \"How busy the machine was\" below). In the PostgreSQL runs the "
            f"three together used {min(totals):.2f}-{max(totals):.2f} cores. ")
    if max(totals) >= SATURATED * machine_cores:
        text += ("Where they reach the machine's cores, the cores are the limit, not the number "
                 "of workers nor the database: a PostgreSQL server on a host of its own would "
                 "leave its share to the workers. ")
    one = [row for row in pg if row["workers"] == 1]
    if one:
        text += (f"With 1 worker, gunicorn used {min(r['server_cores'] for r in one):.2f}-"
                 f"{max(r['server_cores'] for r in one):.2f} cores: a sync worker waits, idle, "
                 "for each of its statements' round trips to PostgreSQL (the key's lookup, the "
                 "query; for a create BEGIN, the inserts and COMMIT, which waits for the WAL "
                 "flush while `synchronous_commit` is on), where SQLite answers in-process. ")
    return text.strip()


def two_instances_part(section, rows):
    two = section.get("two_instances")
    if not two:
        return ""
    title = "### Two instances sharing PostgreSQL and Redis"
    if "skipped" in two:
        return f"{title}\n\n{skipped_line(two['skipped'])}\n"
    same = {row["endpoint"]: row for row in rows if row["database"] == "PostgreSQL"
            and row["workers"] == two["instances"] * two["workers"]}
    lines = []
    for row in two["rows"]:
        one = same.get(row["endpoint"])
        lines.append([row["endpoint"], f"{row['rps']:.0f}", ms(row["p50"]), ms(row["p99"]),
                      percent(row["ratio"]), failures(row),
                      " / ".join(f"{c:.2f}" for c in row.get("instance_cores", [])),
                      cores(row, "postgresql"), cores(row, "redis"), f"{row['wrk_cores']:.2f}",
                      percent(one["ratio"]) if one else ""])
    total = two["instances"] * two["workers"]
    return f"""{title}

Two gunicorn instances of {two['workers']} workers each on two ports, standing for two hosts
(as `tests/test_two_hosts.py` starts them and README "Scaling out" describes): the same
PostgreSQL database, and Redis for the rate-limit counters (`VOREL_RATELIMIT_STORAGE_URI`,
limits raised out of the way, a key prefix of the run's own). One wrk run loads both at once:
its two threads take one instance each ([wrk_request.lua](../bench/wrk_request.lua),
`BENCH_HOSTS`), so req/s is the two instances' total. The reference: two bare-route instances
loaded the same way. The last column is the same endpoint's ratio on one instance with
{total} workers (above), the same number of worker processes.

{table(["endpoint", "req/s (total)", "p50 ms", "p99 ms", "ratio to bare", "failed",
        "cores of instance 1 / 2", "PostgreSQL cores", "Redis cores", "wrk cores",
        f"ratio, one instance of {total} workers"], lines)}
"""


def postgres_section(results):
    section = results.get("postgres")
    if section is None:  # results saved before this section existed
        return ""
    if "skipped" in section:
        return f"{TITLE}\n\n{skipped_line(section['skipped'])}\n"
    plan, rows = results["plan"], section["rows"]
    settings = ", ".join(f"`{name}` {value}" for name, value in section["settings"].items())
    return f"""{TITLE}

The three headline endpoints on PostgreSQL {section['version']} (at {section['server']};
{settings}), beside the same on SQLite, at each number of workers; each as a ratio to the
bare route measured just before them with the same workers. Both databases are throw-away
ones made for this section (the PostgreSQL one created and dropped by the run, its server
given by `VOREL_BENCH_DATABASE_URL`), with the same rows and ids ({plan['http_leads']:,}
leads with their conversations and events, {plan['postgres_fresh_pool']:,} conversations
without a lead for the creates: [postgres.py](../bench/postgres.py) is seed.py's twin) and
the same settings: rate limits raised out of the way, in-memory counters; on PostgreSQL one
connection pool per worker (`DATABASE_POOL_SIZE`, default), rows analyzed after seeding as
autovacuum would. Load as above: `wrk -t{plan['threads']} -c{plan['connections']}
-d{plan['duration']}s` after a {plan['warmup']} s warm-up. "PostgreSQL cores" is the CPU of
the backends serving the run's database (the server's shared processes, such as the WAL
writer, are left out).

Requests per second (ratio to the bare route):

{summary_table(rows, plan['workers'])}

{against_sqlite(rows, plan['workers'])}

{limits(rows, results['machine']['cores'])}

All runs:

{runs_table(rows)}

{two_instances_part(section, rows)}"""


def postgres_headline(results):
    """The headline's line for PostgreSQL, or '' without the section."""
    section = results.get("postgres")
    if section is None:
        return ""
    if "skipped" in section:
        return f"- PostgreSQL: skipped ({section['skipped']})"
    cells = []
    for (endpoint, database), by in grouped(section["rows"]).items():
        if database == "PostgreSQL":
            cells.append(f"`{endpoint}` " + " / ".join(
                f"{row['rps']:.0f}" for _, row in sorted(by.items())) + " req/s (" + " / ".join(
                percent(row["ratio"]) for _, row in sorted(by.items())) + " of bare)")
    workers = " / ".join(str(w) for w in results["plan"]["workers"])
    line = f"- on PostgreSQL at {workers} workers: " + "; ".join(cells)
    two = section.get("two_instances") or {}
    if "rows" in two:
        line += (f"; two instances of {two['workers']} workers: " + ", ".join(
            f"`{row['endpoint']}` {row['rps']:.0f} req/s ({percent(row['ratio'])})"
            for row in two["rows"][1:]))
    return line
