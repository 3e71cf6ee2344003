"""Issue 11's HTTP references: vorel-lite against Prism's mock and json-server, interleaved.

vorel-lite (gunicorn, plan.reference_workers workers of plan's class) creates and reads leads; Prism
mocks vorel-lite's own served document (it validates the bearer header and the body, stores
nothing and answers the document's example); json-server 0.17 creates and reads leads in a
file of plan.json_server_rows of them (restarted on a fresh file every round, since each
create rewrites the file). The pipeline floors (bench/pipeline_floor.py: vorel-lite's
pipeline around the bare create's and read's sqlite3 work, the create's body validated) run
under the same gunicorn settings: what vorel-lite could reach at best. Each round measures
all seven in turn, so that the machine's other work weighs on all of them alike; ratios are
taken within a round.
"""
import http.client

import cpu
import endpoints
import loadgen
import npm_servers
import servers
from references_section import FLOOR_SUBJECT
from seed import lead_id

VOREL_CREATE, VOREL_READ = endpoints.ENDPOINTS[0], endpoints.ENDPOINTS[1]
FLOOR_CREATE, FLOOR_READ = endpoints.VALIDATED_CREATE, endpoints.PIPELINE_READ
SUBJECTS = (("vorel-lite", "create"), ("vorel-lite", "read"), ("Prism", "create"),
            ("json-server", "create"), ("json-server", "read"),
            (FLOOR_SUBJECT, "create"), (FLOOR_SUBJECT, "read"))


def run_references(http, plan, log):
    """The rows of every subject and round, or {"skipped": reason} without npm's servers."""
    binaries = npm_servers.install_or_reason()
    if isinstance(binaries, str):
        log(f"reference servers (Prism, json-server) skipped: {binaries}")
        return {"skipped": binaries}
    directory = http.directory / "references"
    directory.mkdir(exist_ok=True)
    reference_target = loadgen.Target(http.target.keys_file, plan.json_server_rows,
                                      plan.json_server_rows)
    rows = []
    with servers.Gunicorn("app:create_app()", plan.reference_workers,
                          directory / "vorel-lite.log", http.env(),
                          **plan.gunicorn_options()) as vorel, \
            servers.Gunicorn("pipeline_floor:create_app()", plan.reference_workers,
                             directory / "pipeline-floor.log", http.env(),
                             **plan.gunicorn_options()) as floor:
        vorel.wait_until_serving("/api/v1/leads?limit=1", http.keys[0])
        floor.wait_until_serving("/api/v1/leads?limit=1", http.keys[0])
        document = directory / "openapi.json"
        document.write_bytes(fetch(vorel.port, "GET", "/api/v1/openapi.json")[1])
        with npm_servers.prism(binaries, document, directory / "prism.log") as prism:
            prism.wait_until_answering("/api/v1/openapi.json")
            check(prism, endpoints.PRISM_CREATE, http.keys[0])
            for number in range(plan.reference_rounds):
                database = directory / f"json-server-{number}.json"
                npm_servers.json_server_database(database, plan.json_server_rows)
                with npm_servers.json_server(binaries, database,
                                             directory / f"json-server-{number}.log") as store:
                    store.wait_until_answering("/leads?_limit=1")
                    check(store, endpoints.JSON_SERVER_READ, http.keys[0])
                    runs = ((vorel, VOREL_CREATE, http.wrk), (vorel, VOREL_READ, http.wrk),
                            (prism, endpoints.PRISM_CREATE, other(reference_target)),
                            (store, endpoints.JSON_SERVER_CREATE, other(reference_target)),
                            (store, endpoints.JSON_SERVER_READ, other(reference_target)),
                            (floor, FLOOR_CREATE, http.wrk), (floor, FLOOR_READ, http.wrk))
                    for (subject, operation), (server, endpoint, wrk) in zip(SUBJECTS, runs):
                        row = measure(wrk, server, endpoint, plan)
                        row.update(subject=subject, operation=operation, round=number + 1)
                        rows.append(row)
                        log(f"round {number + 1} {subject} {operation}: {row['rps']:.0f} req/s, "
                            f"p99 {row['p99']:.1f} ms, failed {row['failed']}")
        problems = vorel.problems() + floor.problems()
        if problems:
            raise RuntimeError("the server logged failures:\n" + "\n".join(problems[:20]))
    return {"workers": plan.reference_workers, "worker_class": plan.worker_class,
            "worker_threads": plan.worker_threads, "reuse_port": plan.reuse_port,
            "rounds": plan.reference_rounds,
            "json_server_rows": plan.json_server_rows,
            "versions": {name: npm_servers.version(binaries, name)
                         for name in ("@stoplight/prism-cli", "json-server")},
            "rows": rows}


def other(target):
    """wrk for a reference server: its own target, numbers from 0 (it checks no ids)."""
    def wrk(url, endpoint, **options):
        return loadgen.run_wrk(url, endpoint, target, 0, **options)
    return wrk


def fetch(port, method, path, body=None, headers=None):
    """One request; return (status, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check(server, endpoint, key):
    """Fail unless one request to endpoint answers its status (a wrong set-up, not a result)."""
    path = endpoint.path.replace("{lead}", lead_id(0))
    body = endpoints.Filler(1, 1, 0).fill(endpoint, 0)[1] or None
    status, answer = fetch(server.port, endpoint.method, path, body,
                           {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    if status != endpoint.status:
        raise RuntimeError(f"{endpoint.name} answered {status}, not {endpoint.status}: "
                           f"{answer[:300]!r}\n{server.log()}")


def measure(wrk, server, endpoint, plan):
    """A warm-up wrk run, then the measured one, with plan's threads and connections."""
    options = {"threads": plan.threads, "connections": plan.connections,
               "hosts": server.hosts}
    if plan.warmup:
        wrk(server.url, endpoint, duration=plan.warmup, **options)
    pids = server.pids()
    before = cpu.process_seconds(pids)
    result = wrk(server.url, endpoint, duration=plan.duration, **options)
    used = cpu.process_seconds(pids) - before
    return {"endpoint": endpoint.name, "rps": result.rps, "p50": result.p(50),
            "p99": result.p(99), "requests": result.requests, "errors": result.errors,
            "failed": result.failed, "server_cores": used / result.seconds,
            "wrk_cores": result.wrk_cpu_seconds / result.seconds}
