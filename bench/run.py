"""vorel-lite's benchmarks: `make bench` runs this; it prints the tables and writes
docs/benchmarks.md and docs/latency-vs-size.png.

    .venv/bin/python bench/run.py [--quick] [--docs DIR] [--keep]

Phases, in order (each is described in the document it writes):
  1. HTTP: wrk against gunicorn (1, 2, 4 workers, run as the README says: Plan.worker_class)
     serving vorel-lite and the bare route;
  1a. references (issue 11): vorel-lite and its pipeline floors at 2 workers against Prism's
     mock and json-server, interleaved (installed with npm into a cache folder the first
     time; skipped, with a line saying so, without npm); see references.py;
  1b. PostgreSQL: create, get and list on a throw-away PostgreSQL database beside the same on
     SQLite, at 1, 2 and 4 workers, then two instances sharing PostgreSQL and Redis; each
     against the bare route of the same set-up (VOREL_BENCH_DATABASE_URL: the server, default
     postgresql://postgres@127.0.0.1:5432/postgres; VOREL_BENCH_REDIS_URL: Redis, default
     redis://127.0.0.1:6379/0; either unreachable: that part is skipped, with a line saying so);
  2. memory: one worker's peak RSS over 100k requests (the growth databases are seeded in a
     background thread meanwhile: that takes one core, and memory does not care);
  3. in-process: the Flask test client, each endpoint against the bare route, the bare
     create and read and their pipeline floors (pipeline_floor.py), and a profile of
     POST /api/v1/leads;
  4. growth: latency of a create, the first and a deep page at 10k, 100k and 1M leads.

What is measured is listed in endpoints.py, one line per endpoint.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

# Where the PostgreSQL section makes its throw-away database and finds Redis: read before the
# clean-up below.
BENCH_DATABASE_URL = os.environ.get("VOREL_BENCH_DATABASE_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_REDIS_URL = os.environ.get("VOREL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

# Settings of the caller's environment must not change what is measured.
for _name in [n for n in os.environ if n.startswith("VOREL_")]:
    del os.environ[_name]

import cpu  # noqa: E402
import endpoints  # noqa: E402
import inprocess  # noqa: E402
import loadgen  # noqa: E402
import machine  # noqa: E402
import pipeline_floor  # noqa: E402
import postgres  # noqa: E402
import references  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
import servers  # noqa: E402


@dataclass(frozen=True)
class Plan:
    """The run's parameters (all of them go into the document)."""
    workers: tuple = (1, 2, 4)
    threads: int = 2  # wrk -t
    connections: int = 16  # wrk -c
    duration: int = 6  # seconds of each measured wrk run
    warmup: int = 1  # seconds of wrk before each measured run, not counted
    unloaded_duration: int = 5  # seconds of each wrk -t1 -c1 run (1 worker)
    keys: int = 64  # API keys, rotated per request
    http_leads: int = 10_000  # seeded leads in the HTTP and in-process database
    fresh_pool: int = 500_000  # seeded conversations without a lead, for creates
    memory_requests: int = 100_000
    memory_checkpoint: int = 10_000  # peak RSS is read here too, to see a trend
    inprocess_seconds: float = 3.0  # per endpoint
    profile_requests: int = 300
    growth_sizes: tuple = (10_000, 100_000, 1_000_000)
    growth_requests: int = 400  # timed requests per endpoint and size
    growth_fresh: int = 2_000
    postgres_fresh_pool: int = 100_000  # per database of the PostgreSQL section
    instance_workers: int = 2  # per instance, two instances; wrk's threads take one each
    # Every gunicorn runs as the README tells users to ("Scaling out"): `-k gthread` keeps
    # connections alive, as Node's servers do; "sync" closes each after one answer.
    worker_class: str = "gthread"
    worker_threads: int = 4  # gunicorn --threads, per worker
    # gunicorn --reuse-port, as the README: a listening socket per worker, the kernel spreading
    # connections over them (with one shared socket, one worker often took all of wrk's 16).
    reuse_port: bool = True
    reference_workers: int = 2  # of vorel-lite against Prism and json-server (issue 11)
    # Rounds of the seven runs against Prism, json-server and the floors: with 3, the same
    # server moved 1.7x between rounds, too much to tell a ratio of 0.98x from 1.0x.
    reference_rounds: int = 5
    json_server_rows: int = 1_000  # leads in json-server's file

    def gunicorn_options(self):
        """servers.Gunicorn's worker options of this plan."""
        return {"worker_class": self.worker_class, "threads": self.worker_threads,
                "reuse_port": self.reuse_port}


INPROCESS_BLOCK = 0.5  # seconds of back-to-back requests to one endpoint, in turn
MEMORY_SLICE = 5  # seconds of one wrk run of the memory phase, at most

QUICK = Plan(duration=2, unloaded_duration=2, keys=8, http_leads=2_000,
             fresh_pool=150_000, memory_requests=3_000, memory_checkpoint=1_000,
             inprocess_seconds=1.0, profile_requests=50, growth_sizes=(1_000, 5_000, 20_000),
             growth_requests=60, growth_fresh=500, reference_rounds=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--docs", default=str(ROOT / "docs"),
                        help="where benchmarks.md and latency-vs-size.png go")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    plan = QUICK if args.quick else Plan()
    inprocess.quiet_request_log()  # before any app adds its stderr handler
    # A terminated run still stops its servers and removes its work directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    began = time.time()
    results = {"plan": plan.__dict__, "machine": machine.describe(loadgen.wrk_version()),
               "quick": args.quick}
    work = Path(tempfile.mkdtemp(prefix="vorel-bench-"))
    print(f"bench: work directory {work}; load average at start "
          f"{results['machine']['load_at_start']}", flush=True)
    results["load"] = {}
    meters = []  # of processes working for this run that are not its own (PostgreSQL's)

    def phase(name, function, *arguments):
        meter, started = cpu.OtherLoad(meters).start(), time.monotonic()
        value = function(*arguments)
        results["load"][name] = meter.stop(time.monotonic() - started)
        return value

    try:
        http, growth = phase("setup", setup, work, plan)
        results["http"], results["unloaded"] = phase("HTTP", run_http, http, plan)
        results["references"] = phase("Prism and json-server", references.run_references,
                                      http, plan, log)
        results["postgres"] = phase("PostgreSQL", run_postgres, work / "postgresql", plan,
                                    meters)
        results["memory"] = phase("memory (and seeding the growth databases)", run_memory,
                                  http, plan, growth)
        results["inprocess"], results["profile"], results["parts"] = phase(
            "in-process", run_inprocess, http, plan)
        results["growth"], results["plans"] = phase("growth", run_growth, growth, plan)
    finally:
        if args.keep:
            print(f"bench: kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["elapsed"] = time.time() - began
    # The raw figures: `python bench/report.py FILE [DIR]` renders the document from them again.
    saved = work.parent / "vorel-bench-results.json"
    saved.write_text(json.dumps(results, indent=1))
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    text = report.write(results, docs)
    print(text)
    print(f"bench: wrote {docs / 'benchmarks.md'} and {docs / 'latency-vs-size.png'} "
          f"in {results['elapsed'] / 60:.1f} min (raw figures: {saved})", flush=True)


def setup(work, plan):
    """The HTTP database, seeded; the growth databases, provisioned (seeded later)."""
    return HttpDatabase(work / "http", plan), GrowthDatabases(work / "growth", plan)


def log(message):
    print(f"bench: {message}", flush=True)


class HttpDatabase:
    """The database the HTTP, memory and in-process phases share, and the keys to it."""

    rows = seed  # what inserts the leads and the pool in bulk

    def __init__(self, directory, plan):
        directory.mkdir(parents=True)
        self.directory = directory
        self.path = directory / "vorel.db"
        self.instance = directory / "instance"
        self.tenant, self.keys = seed.provision(self.database, self.instance, plan.keys)
        self.keys_file = directory / "keys"
        self.keys_file.write_text("\n".join(self.keys) + "\n")
        took = self.rows.seed_leads(self.database, self.tenant, 0, plan.http_leads)
        took += self.rows.seed_fresh_conversations(self.database, self.tenant, 0,
                                                   plan.fresh_pool)
        log(f"seeded {plan.http_leads} leads and {plan.fresh_pool} conversations without a "
            f"lead in {took:.1f} s ({type(self).__name__})")
        self.leads = plan.http_leads
        self.fresh_used = 0  # conversations of the pool used (or possibly used) so far
        self.fresh_pool = plan.fresh_pool
        self.target = loadgen.Target(str(self.keys_file), self.leads, self.leads)

    @property
    def database(self):
        """What seed.app_config takes: the SQLite file's path here, a URL in subclasses."""
        return self.path

    def env(self, **settings):
        """The VOREL_* settings of a gunicorn serving this database, with settings on top."""
        config = {**seed.app_config(self.database, self.instance), **settings}
        return {f"VOREL_{name}": str(value) for name, value in config.items()}

    def wrk(self, url, endpoint, **options):
        """Run wrk, giving it never-used fresh conversations; account for what it used."""
        if self.fresh_used >= self.fresh_pool:
            raise RuntimeError("the pool of conversations without a lead is used up")
        result = loadgen.run_wrk(url, endpoint, self.target, self.fresh_used, **options)
        if endpoints.takes_fresh_numbers(endpoint):
            # Every number a request was built with, answered or not (wrk's threads take
            # them in turn, so more than the requests counted when one thread sent more).
            self.fresh_used += result.numbers_used
        return result


class PostgresHttpDatabase(HttpDatabase):
    """The same tenant, keys and rows (and ids) on a throw-away PostgreSQL database."""

    rows = postgres

    def __init__(self, directory, plan, url):
        self.url = url
        super().__init__(directory, plan)

    @property
    def database(self):
        return self.url


def app_server(http, plan, workers, log_path, **settings):
    return servers.Gunicorn("app:create_app()", workers, log_path, http.env(**settings),
                            **plan.gunicorn_options())


def bare_server(plan, workers, log_path):
    return servers.Gunicorn("bare_app:create_app()", workers, log_path,
                            **plan.gunicorn_options())


def measure(http, server, endpoint, plan, threads=None, connections=None, duration=None,
            meters=()):
    """A warm-up wrk run, then the measured one; return its figures.

    server: a servers.Gunicorn, or servers.Instances loaded all at once. meters: the
    cpu.ProcessMeter of services the requests use (PostgreSQL, Redis), each giving a
    "<name>_cores" figure.
    """
    threads = threads or plan.threads
    connections = connections or plan.connections
    if plan.warmup:
        http.wrk(server.url, endpoint, threads=threads, connections=connections,
                 duration=plan.warmup, hosts=server.hosts)
    instances = getattr(server, "instances", [server])
    pids = [instance.pids() for instance in instances]
    server_cpu = [cpu.process_seconds(p) for p in pids]
    services = [meter.seconds() for meter in meters]
    result = http.wrk(server.url, endpoint, threads=threads, connections=connections,
                      duration=duration or plan.duration, hosts=server.hosts)
    server_cpu = [cpu.process_seconds(p) - before for p, before in zip(pids, server_cpu)]
    row = {"endpoint": endpoint.name, "rps": result.rps, "p50": result.p(50),
           "p90": result.p(90), "p99": result.p(99), "requests": result.requests,
           "seconds": result.seconds, "errors": result.errors, "failed": result.failed,
           "server_cpu_ms": sum(server_cpu) * 1000 / max(result.requests, 1),
           "server_cores": sum(server_cpu) / result.seconds,
           "wrk_cores": result.wrk_cpu_seconds / result.seconds}
    if len(instances) > 1:
        row["instance_cores"] = [seconds / result.seconds for seconds in server_cpu]
    for meter, before in zip(meters, services):
        row[f"{meter.name}_cores"] = (meter.seconds() - before) / result.seconds
    return row


def run_http(http, plan):
    """Throughput and latency of every endpoint and of the bare route, per worker count."""
    rows, unloaded = [], []
    logs = http.path.parent
    for workers in plan.workers:
        with bare_server(plan, workers, logs / f"bare-{workers}.log") as server:
            server.wait_until_serving(endpoints.BARE.path)
            bare = measure(http, server, endpoints.BARE, plan)
            bare.update(workers=workers, ratio=1.0)
            rows.append(bare)
            log(f"{workers} worker(s) {bare['endpoint']}: {bare['rps']:.0f} req/s")
            if workers == 1:
                unloaded.append(measure(http, server, endpoints.BARE, plan, 1, 1,
                                        plan.unloaded_duration))
        with app_server(http, plan, workers, logs / f"app-{workers}.log") as server:
            server.wait_until_serving("/api/v1/leads?limit=1", http.keys[0])
            for endpoint in endpoints.ENDPOINTS:
                row = measure(http, server, endpoint, plan)
                row.update(workers=workers, ratio=row["rps"] / bare["rps"])
                rows.append(row)
                log(f"{workers} worker(s) {endpoint.name}: {row['rps']:.0f} req/s, p50 "
                    f"{row['p50']:.1f} ms, p99 {row['p99']:.1f} ms, failed {row['failed']}")
                if workers == 1:
                    unloaded.append(measure(http, server, endpoint, plan, 1, 1,
                                            plan.unloaded_duration))
            problems = server.problems()
            if problems:
                raise RuntimeError("the server logged failures:\n" + "\n".join(problems[:20]))
    return rows, unloaded


def run_postgres(directory, plan, meters):
    """create, get and list on SQLite and on PostgreSQL at each worker count, then on two
    instances sharing PostgreSQL and Redis; each as a ratio to the bare route of its set-up."""
    database = postgres.open_or_reason(BENCH_DATABASE_URL)
    if isinstance(database, str):
        log(f"PostgreSQL section skipped: {database}")
        return {"skipped": database}
    try:
        backends = cpu.ProcessMeter("postgresql", database.name)
        meters.append(backends)
        pool = replace(plan, fresh_pool=plan.postgres_fresh_pool)
        databases = (("SQLite", HttpDatabase(directory / "sqlite", pool)),
                     ("PostgreSQL", PostgresHttpDatabase(directory / "pg", pool, database.url)))
        rows = []
        for workers in plan.workers:
            with bare_server(plan, workers, directory / f"bare-{workers}.log") as server:
                server.wait_until_serving(endpoints.BARE.path)
                bare = measure(databases[0][1], server, endpoints.BARE, plan, meters=[backends])
            rows.append({**bare, "workers": workers, "database": "", "ratio": 1.0})
            log(f"{workers} worker(s) {bare['endpoint']}: {bare['rps']:.0f} req/s")
            for name, http in databases:
                with app_server(http, plan, workers,
                                directory / f"{name}-{workers}.log") as server:
                    rows += measure_headline(http, server, plan, bare, [backends],
                                             workers=workers, database=name)
        two = run_two_instances(databases[1][1], directory, plan, meters, backends)
        return {"server": postgres.redacted(BENCH_DATABASE_URL), "version": database.version,
                "settings": database.settings, "rows": rows, "two_instances": two}
    finally:
        database.drop()


def measure_headline(http, server, plan, bare, meters, **labels):
    """Rows of the headline endpoints on a server, as ratios to the bare row given."""
    server.wait_until_serving("/api/v1/leads?limit=1", http.keys[0])
    rows = []
    for endpoint in endpoints.HEADLINE:
        row = measure(http, server, endpoint, plan, meters=meters)
        row.update(labels, ratio=row["rps"] / bare["rps"])
        rows.append(row)
        log(f"{' '.join(str(v) for v in labels.values())} {endpoint.name}: {row['rps']:.0f} "
            f"req/s ({row['ratio']:.0%} of bare), p99 {row['p99']:.1f} ms, "
            f"failed {row['failed']}")
    problems = server.problems()
    if problems:
        raise RuntimeError("the server logged failures:\n" + "\n".join(problems[:20]))
    return rows


def run_two_instances(http, directory, plan, meters, backends):
    """Two gunicorn instances on two ports sharing PostgreSQL and Redis, loaded at once."""
    reason = redis_or_reason(BENCH_REDIS_URL)
    if reason:
        log(f"two instances skipped: {reason}")
        return {"skipped": reason}
    redis = cpu.ProcessMeter("redis", "redis-server")
    meters.append(redis)
    workers = plan.instance_workers
    shared = {"RATELIMIT_STORAGE_URI": BENCH_REDIS_URL,
              "RATELIMIT_KEY_PREFIX": f"vorel-bench-{uuid.uuid4().hex}"}
    with servers.Instances(*(bare_server(plan, workers, directory / f"bare-instance-{n}.log")
                             for n in (1, 2))) as pair:
        pair.wait_until_serving(endpoints.BARE.path)
        bare = measure(http, pair, endpoints.BARE, plan, meters=[backends, redis])
    bare.update(ratio=1.0)
    log(f"two instances {bare['endpoint']}: {bare['rps']:.0f} req/s")
    with servers.Instances(*(app_server(http, plan, workers, directory / f"instance-{n}.log",
                                        **shared)
                             for n in (1, 2))) as pair:
        rows = measure_headline(http, pair, plan, bare, [backends, redis],
                                database="two instances")
    return {"instances": 2, "workers": workers, "rows": [bare] + rows}


def redis_or_reason(url):
    """Return None if a Redis server answers at url, else the reason there is none."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # no driver, no server, no permission
        return f"no Redis at {postgres.redacted(url)}: {str(exc).strip().splitlines()[0]}"
    return None


class GrowthDatabases:
    """One database per size, provisioned now, seeded in the background by start_seeding."""

    def __init__(self, directory, plan):
        directory.mkdir(parents=True)
        self.plan = plan
        self.databases = []
        for size in plan.growth_sizes:
            path = directory / f"leads-{size}.db"
            instance = directory / f"instance-{size}"
            tenant, keys = seed.provision(path, instance, 4)
            self.databases.append({"size": size, "path": path, "instance": instance,
                                   "tenant": tenant, "keys": keys})
        self.thread = None
        self.error = None
        self.seconds = {}

    def start_seeding(self):
        self.thread = threading.Thread(target=self._seed, daemon=True)
        self.thread.start()

    def _seed(self):
        try:
            for database in self.databases:
                took = seed.seed_leads(database["path"], database["tenant"], 0, database["size"])
                took += seed.seed_fresh_conversations(database["path"], database["tenant"], 0,
                                                      self.plan.growth_fresh)
                self.seconds[database["size"]] = took
        except BaseException as exc:  # re-raised by wait()
            self.error = exc

    def wait(self):
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            raise self.error
        for size, took in self.seconds.items():
            log(f"seeded {size} leads (with conversations and events) in {took:.1f} s")


def run_memory(http, plan, growth):
    """Peak RSS of one worker serving memory_requests requests, the endpoints in turn."""
    growth.start_seeding()
    with app_server(http, plan, 1, http.path.parent / "memory.log") as server:
        server.wait_until_serving("/api/v1/leads?limit=1", http.keys[0])
        (pid,) = server.worker_pids()
        samples = [{"requests": 1, **servers.memory_kib(pid)}]
        served = 0
        rates = {}  # of each endpoint, from its last slice
        for goal in (plan.memory_checkpoint, plan.memory_requests):
            # The endpoints in turn, in slices of a few seconds, until the goal is reached.
            while served < goal:
                for endpoint in endpoints.MEMORY_ROUND:
                    remaining = goal - served
                    if remaining <= 0:
                        break
                    # A slice that finished no request (a loaded machine) gives no rate.
                    seconds = max(1, min(MEMORY_SLICE, round(
                        remaining / (rates.get(endpoint.name) or 1e9))))
                    result = http.wrk(server.url, endpoint, threads=plan.threads,
                                      connections=plan.connections, duration=seconds)
                    if result.failed:
                        raise RuntimeError(f"memory run: {result.errors} for {endpoint.name}")
                    rates[endpoint.name] = result.rps
                    served += result.requests
            samples.append({"requests": served, **servers.memory_kib(pid)})
            log(f"memory: {served} requests, peak RSS {samples[-1]['VmHWM'] / 1024:.1f} MiB")
        problems = server.problems()
        if problems:
            raise RuntimeError("the server logged failures:\n" + "\n".join(problems[:20]))
    growth.wait()
    return {"samples": samples, "workers": 1, "pid": pid}


def floor_app(http, **settings):
    """vorel-lite's app on the HTTP database, with the pipeline floors' routes added."""
    return pipeline_floor.add_floor_routes(
        inprocess.vorel_app(http.path, http.instance, **settings), http.path)


def inprocess_kinds(http, **settings):
    """The bare route, the bare create and read, their pipeline floors, and every endpoint,
    each with its test client."""
    app = floor_app(http, **settings)
    # One filler for all creates: each uses conversations the others never do.
    filler = endpoints.Filler(http.leads, http.leads, http.fresh_used)
    client = inprocess.Client(app, http.keys, filler)
    bare_app = inprocess.bare_app(http.path, http.tenant)
    floor = inprocess.Client(bare_app, filler=filler)
    kinds = [(endpoints.BARE, inprocess.Client(bare_app)), (endpoints.FLOOR, floor),
             (endpoints.PIPELINE_CREATE, client), (endpoints.VALIDATED_CREATE, client),
             (endpoints.BARE_READ, floor),
             (endpoints.PIPELINE_READ, client)]
    return app, filler, client, kinds + [(endpoint, client) for endpoint in endpoints.ENDPOINTS]


def run_inprocess(http, plan):
    """Throughput through the test client, each endpoint against the bare route."""
    app, filler, client, kinds = inprocess_kinds(http)
    rows = inprocess.compare(kinds, plan.inprocess_seconds, INPROCESS_BLOCK)
    for row in rows:
        log(f"in-process {row['endpoint']}: {row['rps']:.0f} req/s ({row['ratio']:.1%} of bare)")
    create = endpoints.ENDPOINTS[0]
    profile = {
        "requests": plan.profile_requests,
        "pyinstrument": inprocess.pyinstrument_profile(client, create, plan.profile_requests),
        "cprofile": inprocess.cprofile_top(client, create, plan.profile_requests),
    }
    http.fresh_used = filler.next_unique
    app.extensions["vorel_db"].close_all()
    return rows, profile, run_parts(http, plan)


def run_parts(http, plan):
    """µs per request of some endpoints and their pipeline floors with everything on, then
    with each part turned off."""
    variants = [("nothing", {})] + list(endpoints.PARTS)
    filler = endpoints.Filler(http.leads, http.leads, http.fresh_used)
    apps, kinds = [], []
    for part, settings in variants:
        app = floor_app(http, **settings)
        apps.append(app)
        client = inprocess.Client(app, http.keys, filler)
        kinds += [(replace(endpoint, name=f"{endpoint.name} | {part}"), client)
                  for endpoint in endpoints.PART_ENDPOINTS]
    rows = inprocess.compare(kinds, plan.inprocess_seconds, INPROCESS_BLOCK)
    http.fresh_used = filler.next_unique
    for app in apps:
        app.extensions["vorel_db"].close_all()
    us = {row["endpoint"]: 1e6 / row["rps"] for row in rows}
    table = [{"part": part, **{endpoint.name: us[f"{endpoint.name} | {part}"]
                               for endpoint in endpoints.PART_ENDPOINTS}}
             for part, _ in variants]
    for row in table[1:]:
        log(f"in-process without {row['part']}: " + ", ".join(
            f"{name} {row[name]:.0f} µs" for name in row if name != "part"))
    return table


def run_growth(growth, plan):
    """p50/p99 latency of each growth endpoint at each database size, in-process.

    Every size has its own database and app; the sizes and endpoints are timed in turn, one
    request each per round, so that the machine's other work weighs on all of them alike.
    """
    clients = []
    for database in growth.databases:
        app = inprocess.vorel_app(database["path"], database["instance"])
        filler = endpoints.Filler(database["size"], database["size"], 0)
        clients.append((database, app, inprocess.Client(app, database["keys"], filler)))
    durations = {(database["size"], endpoint.name): []
                 for database, _, _ in clients for endpoint in endpoints.GROWTH}
    for _, _, client in clients:
        for endpoint in endpoints.GROWTH:
            client.timed(endpoint, 20)  # warm-up
    for _ in range(plan.growth_requests):
        for database, _, client in clients:
            for endpoint in endpoints.GROWTH:
                durations[database["size"], endpoint.name] += client.timed(endpoint, 1)
    rows = []
    for database, app, client in clients:
        size = database["size"]
        row = {"size": size, "mb": seed.size_mb(database["path"])}
        for endpoint in endpoints.GROWTH:
            row[endpoint.name] = inprocess.summarize(durations[size, endpoint.name])
        rows.append(row)
        log(f"growth {size} leads: " + ", ".join(
            f"{e.name} p50 {row[e.name]['p50']:.2f} ms" for e in endpoints.GROWTH))
    database, _, client = clients[-1]
    plans = query_plans(client, database["path"])
    for _, app, _ in clients:
        app.extensions["vorel_db"].close_all()
    return rows, plans


def query_plans(client, path):
    """The SELECTs of one first-page and one deep-page request, with SQLite's query plans."""
    import sqlite3

    plans = {}
    for endpoint in endpoints.GROWTH[1:]:
        with inprocess.CapturedSQL() as captured:
            client.send(endpoint)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            entries = []
            for sql, params in captured.statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                steps = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                entries.append({"sql": sql, "plan": [step[-1] for step in steps]})
        finally:
            connection.close()
        plans[endpoint.name] = entries
    return plans


if __name__ == "__main__":
    main()
