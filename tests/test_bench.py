"""The benchmark code still runs: bench/quick.py measures every endpoint of bench/endpoints.py;
the PostgreSQL section's tables, skip lines and seeding; issue 11's references (the bare read,
the pipeline floors, the table against Prism and json-server, the line when npm is missing)."""
import importlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from services import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
BENCH = str(ROOT / "bench")


def bench_module(name):
    """A module of bench/, imported without leaving bench/ on the path of the other tests."""
    sys.path.insert(0, BENCH)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(BENCH)


def test_quick_bench_measures_every_endpoint_against_both_references_and_the_floors():
    endpoints = bench_module("endpoints")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "quick.py"), "--seconds", "0.1"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if not line.startswith("bench:")]
    table = lines[:lines.index("")]
    measured = {line[:40].strip(): line[40:].split() for line in table[1:]}
    expected = [endpoints.BARE, endpoints.FLOOR, endpoints.PIPELINE_CREATE,
                endpoints.VALIDATED_CREATE, endpoints.BARE_READ, endpoints.PIPELINE_READ,
                *endpoints.ENDPOINTS]
    assert list(measured) == [endpoint.name for endpoint in expected]
    for name, (us, p50, ratio) in measured.items():
        assert float(us) > 0 and float(p50) > 0 and ratio.endswith("%"), name
    assert measured[endpoints.BARE.name][2] == "100.0%"
    targets = lines[lines.index("") + 1:]
    assert targets[0] == "issue 11's targets (µs per request over µs per request):"
    assert [line.split(" | ")[:2] for line in targets[3:]] == [
        ["| `POST /api/v1/leads` / bare create (sqlite3, nothing else)", "<= 1.5x"],
        ["| `GET /api/v1/leads/{id}` / bare read (sqlite3, nothing else)", "<= 2.0x"]]
    # The read has no body to validate: no validated floor.
    for line, costs in zip(targets[3:], ([2, 3, 4, 5], [2, 3, 5])):
        cells = line.strip("| ").split(" | ")
        assert all(cells[n].endswith("x") and float(cells[n][:-1]) > 0 for n in costs), line
    assert targets[4].strip("| ").split(" | ")[4] == "-"


def run_row(endpoint, database, workers, rps, bare_rps, **cores):
    return {"endpoint": endpoint, "database": database, "workers": workers, "rps": rps,
            "ratio": rps / bare_rps, "p50": 5.0, "p99": 9.0, "errors": {"status": 0},
            "failed": 0, "server_cores": 0.8, "wrk_cores": 0.2, **cores}


def postgres_results(two_instances):
    bare = "bare route (constant JSON)"
    create = "POST /api/v1/leads"
    rows = []
    for workers, bare_rps in ((1, 1000), (4, 2000)):
        rows += [run_row(bare, "", workers, bare_rps, bare_rps),
                 run_row(create, "SQLite", workers, bare_rps / 2, bare_rps),
                 run_row(create, "PostgreSQL", workers, bare_rps / 4, bare_rps,
                         postgresql_cores=workers / 4)]
    return {"plan": {"workers": [1, 4], "threads": 2, "connections": 16, "duration": 6,
                     "warmup": 1, "http_leads": 10_000, "postgres_fresh_pool": 100_000},
            "machine": {"cores": 2},
            "postgres": {"server": "postgresql://postgres@127.0.0.1:5432/postgres",
                         "version": "15.20", "settings": {"synchronous_commit": "on"},
                         "rows": rows, "two_instances": two_instances}}


def test_the_postgres_table_puts_each_database_beside_the_bare_route_of_its_workers():
    section = bench_module("postgres_section")
    two = {"instances": 2, "workers": 2, "rows": [
        {**run_row("bare route (constant JSON)", "", None, 1800, 1800), "redis_cores": 0.1,
         "instance_cores": [0.4, 0.5]},
        {**run_row("POST /api/v1/leads", "two instances", None, 360, 1800),
         "postgresql_cores": 0.6, "redis_cores": 0.1, "instance_cores": [0.7, 0.6]}]}
    text = section.postgres_section(postgres_results(two))
    summary = [line for line in text.splitlines() if line.startswith("| ")][:5]
    assert summary == [
        "| endpoint | database | 1 worker | 4 workers |",
        "| --- | ---: | ---: | ---: |",
        "| bare route (constant JSON) | - | 1000 (100%) | 2000 (100%) |",
        "| POST /api/v1/leads | SQLite | 500 (50%) | 1000 (50%) |",
        "| POST /api/v1/leads | PostgreSQL | 250 (25%) | 500 (25%) |"]
    assert ("PostgreSQL's throughput as a share of SQLite's, at 1 worker: "
            "`POST /api/v1/leads` 50%; at 4 workers: `POST /api/v1/leads` 50%.") in text
    assert "the three together used 1.25-2.00 cores. Where they reach the machine's" in text
    assert "With 1 worker, gunicorn used 0.80-0.80 cores" in text
    # Two instances of 2 workers, against one instance of 4 (the same number of processes).
    assert ("| POST /api/v1/leads | 360 | 5.00 | 9.00 | 20% | 0 | 0.70 / 0.60 | 0.60 | 0.10 "
            "| 0.20 | 25% |") in text
    headline = section.postgres_headline(postgres_results(two))
    assert headline == ("- on PostgreSQL at 1 / 4 workers: `POST /api/v1/leads` 250 / 500 req/s "
                        "(25% / 25% of bare); two instances of 2 workers: "
                        "`POST /api/v1/leads` 360 req/s (20%)")


def test_without_postgresql_the_section_says_skipped_and_why_without_the_password():
    postgres, section = bench_module("postgres"), bench_module("postgres_section")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reason = postgres.open_or_reason(f"postgresql://bench:s3cret@127.0.0.1:{port}/postgres")
    assert isinstance(reason, str)
    assert reason.startswith(f"no PostgreSQL at postgresql://bench:***@127.0.0.1:{port}/postgres")
    assert "s3cret" not in reason
    text = section.postgres_section({"postgres": {"skipped": reason}})
    assert text.startswith("## PostgreSQL, and two instances\n\n**Skipped:** no PostgreSQL at ")
    assert section.postgres_headline({"postgres": {"skipped": reason}}).startswith(
        "- PostgreSQL: skipped (no PostgreSQL at ")
    no_redis = section.postgres_section(postgres_results({"skipped": "no Redis at x"}))
    assert "### Two instances sharing PostgreSQL and Redis\n\n**Skipped:** no Redis at x." \
        in no_redis


def test_the_bench_reads_its_postgresql_server_and_prints_the_skip_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = ("import run, pathlib, tempfile; print(run.run_postgres("
              "pathlib.Path(tempfile.mkdtemp()), run.QUICK, []))")
    env = {**os.environ, "VOREL_BENCH_DATABASE_URL": f"postgresql://x:pw@127.0.0.1:{port}/db"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=BENCH, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    line = ("bench: PostgreSQL section skipped: no PostgreSQL at "
            f"postgresql://x:***@127.0.0.1:{port}/db")
    assert result.stdout.startswith(line), result.stdout
    assert "pw" not in result.stdout


def test_postgres_seeding_gives_the_rows_and_ids_seed_py_gives_sqlite(tmp_path):
    from databases import SERVER_URL
    from vorel_lite import create_app

    postgres, seed = bench_module("postgres"), bench_module("seed")
    database = postgres.open_or_reason(SERVER_URL)
    if isinstance(database, str):
        skip_or_fail(database)
    bodies = {}
    try:
        for name, target, rows in (("sqlite", tmp_path / "bench.db", seed),
                                   ("postgresql", database.url, postgres)):
            tenant, keys = seed.provision(target, tmp_path / name, 1)
            rows.seed_leads(target, tenant, 0, 30)
            rows.seed_fresh_conversations(target, tenant, 0, 5)
            app = create_app(seed.app_config(target, tmp_path / name))
            client = app.test_client()
            headers = {"Authorization": f"Bearer {keys[0]}"}
            lead = client.get(f"/api/v1/leads/{seed.lead_id(7)}", headers=headers)
            page = client.get("/api/v1/leads?limit=25", headers=headers).get_json()
            events = client.get("/api/v1/events?limit=100", headers=headers).get_json()
            created = client.post("/api/v1/leads", headers=headers, json={
                "conversation_id": seed.fresh_conversation_id(4), "name": "Fresh"})
            app.extensions["vorel_db"].close_all()
            assert lead.status_code == 200 and created.status_code == 201, name
            assert [item["id"] for item in page["data"]] == [
                seed.lead_id(n) for n in range(29, 4, -1)], name
            bodies[name] = (lead.get_json(), sorted(
                (event["id"], event["data"]["id"]) for event in events["data"]))
    finally:
        database.drop()
    assert bodies["postgresql"] == bodies["sqlite"]
    assert len(bodies["sqlite"][1]) == 30


def reference_row(subject, operation, number, rps, failed=0):
    return {"subject": subject, "operation": operation, "round": number, "rps": rps,
            "p50": 10.0, "p99": 20.0, "failed": failed, "errors": {"status": failed},
            "server_cores": 0.9}


def references_results():
    rows = []
    for number, (create, prism, store_create) in enumerate(
            ((500, 1000, 200), (600, 1000, 150), (450, 900, 100)), start=1):
        rows += [reference_row("vorel-lite", "create", number, create),
                 reference_row("vorel-lite", "read", number, 900),
                 reference_row("Prism", "create", number, prism),
                 reference_row("json-server", "create", number, store_create, failed=1),
                 reference_row("json-server", "read", number, 1800),
                 reference_row("pipeline floor", "create", number, 800),
                 reference_row("pipeline floor", "read", number, 1700 + 100 * number)]
    inprocess = [{"endpoint": name, "rps": rps} for name, rps in (
        ("bare route (constant JSON)", 8000), ("bare create (sqlite3, nothing else)", 3000),
        ("pipeline floor (bare create's sqlite3)", 1500),
        ("validated floor (bare create's sqlite3)", 1250),
        ("bare read (sqlite3, nothing else)", 4000),
        ("pipeline floor (bare read's sqlite3)", 3200), ("POST /api/v1/leads", 1200),
        ("GET /api/v1/leads/{id}", 2500))]
    return {"plan": {"threads": 2, "connections": 16, "duration": 6, "warmup": 1},
            "inprocess": inprocess,
            "references": {"workers": 2, "worker_class": "gthread", "worker_threads": 4,
                           "rounds": 3, "json_server_rows": 1000,
                           "versions": {"@stoplight/prism-cli": "5.14.2", "json-server": "0.17.4"},
                           "rows": rows}}


def test_the_references_table_gives_ratios_within_each_round_and_the_floors():
    section = bench_module("references_section")
    text = section.references_section(references_results())
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[:4] == [
        "| endpoint | target | vorel-lite / bare | pipeline floor / bare "
        "| validated floor / bare | vorel-lite / pipeline floor | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        # 3000 / 1200; 3000 / 1500; 3000 / 1250; 1500 / 1200.
        "| `POST /api/v1/leads` / bare create (sqlite3, nothing else) | <= 1.5x | 2.50x | 2.00x "
        "| 2.40x | 1.25x | no: the pipeline floor with the body validated alone is 2.40x |",
        "| `GET /api/v1/leads/{id}` / bare read (sqlite3, nothing else) | <= 2.0x | 1.60x "
        "| 1.25x | - | 1.28x | yes |"]
    assert "| json-server | create | 150 (100-200) | 10.0 | 20.0 | 3 | 0.90 |" in lines
    # Ratios are of the same round: 0.5, 0.6, 0.5 against Prism; 2.5, 4.0, 4.5 against
    # json-server's creates (not the ratio of the medians, 500 / 150).
    # The floors: 0.8, 0.8, 0.89 of Prism; 4.0, 5.33, 8.0 of json-server's creates; 1.0,
    # 1.06, 1.11 of its reads (the read's floor is not under its target: our code stops it).
    assert lines[-3:] == [
        "| vorel-lite create / Prism create | 0.50x (0.50-0.60x) | 0.80x (0.80-0.89x) | >= 1.0x "
        "| no: the pipeline floor alone is 0.80x |",
        "| vorel-lite create / json-server create | 4.00x (2.50-4.50x) | 5.33x (4.00-8.00x) "
        "| >= 3x (keep) | yes |",
        "| vorel-lite read / json-server read | 0.50x (0.50-0.50x) | 1.06x (1.00-1.11x) "
        "| >= 1.0x | no: vorel-lite's own code |"]
    assert "@stoplight/prism-cli 5.14.2, json-server 0.17.4." in text
    assert " ".join(text.split()).count(
        "with 2 workers, `-k gthread --threads 4` (connections kept alive between requests, as "
        "the README runs it)") == 1
    assert section.references_headline(references_results()) == (
        "- issue 11: in-process `POST /api/v1/leads` 2.50x the bare create (sqlite3, nothing "
        "else) (pipeline floor 2.00x, with the body validated 2.40x, own code 1.25x), "
        "`GET /api/v1/leads/{id}` 1.60x the bare "
        "read (sqlite3, nothing else) (pipeline floor 1.25x, own code 1.28x); over HTTP "
        "vorel-lite create / Prism create 0.50x, vorel-lite create / json-server create 4.00x, "
        "vorel-lite read / json-server read 0.50x")


def test_the_floor_table_says_what_stops_each_target_and_reads_runs_without_pipeline_floors():
    section = bench_module("references_section")
    rps = {"bare create (sqlite3, nothing else)": 3000,
           "pipeline floor (bare create's sqlite3)": 2400, "POST /api/v1/leads": 1500,
           "bare read (sqlite3, nothing else)": 4000, "GET /api/v1/leads/{id}": 1600}
    rows = section.floor_rows([{"endpoint": name, "rps": value} for name, value in rps.items()])
    # The create's floor (1.25x) is under its target: its own code (1.60x of it) stops it.
    assert rows[0][1:] == ["<= 1.5x", "2.00x", "1.25x", "-", "1.60x",
                           "no: the endpoint's own code (the pipeline floor is 1.25x)"]
    # A run from before the pipeline floors: the ratio to the bare read alone.
    assert rows[1][1:] == ["<= 2.0x", "2.50x", "-", "-", "-", "no"]
    # The pipeline floor alone over the target; then the validated floor alone over it.
    over = {**rps, "pipeline floor (bare create's sqlite3)": 1500}
    assert section.floor_rows([{"endpoint": name, "rps": value} for name, value in over.items()])[
        0][-1] == "no: the pipeline floor alone is 2.00x"
    validated = {**rps, "validated floor (bare create's sqlite3)": 1875}
    assert section.floor_rows([{"endpoint": name, "rps": value}
                               for name, value in validated.items()])[0][3:] == [
        "1.25x", "1.60x", "1.60x", "no: the pipeline floor with the body validated alone is 1.60x"]
    assert section.floor_rows([{"endpoint": "POST /api/v1/leads", "rps": 1}]) == []


def test_each_floor_cost_is_the_median_of_the_ratios_within_each_round():
    section = bench_module("references_section")
    # A burst of other work in the third round: the ratio within it is off, the median is not.
    rounds = {"bare read (sqlite3, nothing else)": [1.0, 1.0, 5.0],
              "pipeline floor (bare read's sqlite3)": [1.5, 1.5, 20.0],
              "GET /api/v1/leads/{id}": [2.0, 2.0, 30.0]}
    rows = section.floor_rows([{"endpoint": name, "rps": 3 / sum(means), "round_means": means}
                               for name, means in rounds.items()])
    assert rows[0][1:] == ["<= 2.0x", "2.00x", "1.50x", "-", "1.33x", "yes"]
    # Means over the whole run would have said 4.86x.
    assert section.floor_rows([{"endpoint": name, "rps": 3 / sum(means)}
                               for name, means in rounds.items()])[0][2] == "4.86x"


def test_the_parts_table_has_the_pipeline_floors_and_reads_runs_without_them():
    sections, endpoints = bench_module("sections"), bench_module("endpoints")
    names = [endpoint.name for endpoint in endpoints.PART_ENDPOINTS]
    assert names[2:] == [endpoints.PIPELINE_CREATE.name, endpoints.PIPELINE_READ.name]
    parts = [{"part": part, **{name: us + 10 * n for n, name in enumerate(names)}}
             for part, us in (("nothing", 500), ("the rate limiter", 400),
                              ("the request log", 450))]
    lines = [line for line in sections.parts_section({"parts": parts}).splitlines()
             if line.startswith("| ")]
    assert lines[0] == f"|  | {' | '.join(names)} |"
    assert lines[2:] == ["| everything on | 500 | 510 | 520 | 530 |",
                         "| without the rate limiter | 400 (+100) | 410 (+100) | 420 (+100) "
                         "| 430 (+100) |",
                         "| without the request log | 450 (+50) | 460 (+50) | 470 (+50) "
                         "| 480 (+50) |"]
    old = [{key: value for key, value in row.items() if key not in names[2:]} for row in parts]
    lines = [line for line in sections.parts_section({"parts": old}).splitlines()
             if line.startswith("| ")]
    assert lines[0] == f"|  | {' | '.join(names[:2])} |"
    assert lines[2] == "| everything on | 500 | 510 |"


def test_the_section_replaces_its_old_self_or_goes_before_the_in_process_one():
    section = bench_module("references_section")
    page = "# B\n\n## HTTP\n\nx\n\n## In-process cost per request\n\ny\n"
    new = f"{section.HEADING}\n\nfirst\n"
    once = section.replace_section(page, new)
    assert once == ("# B\n\n## HTTP\n\nx\n\n" + new + "\n## In-process cost per request\n\ny\n")
    again = section.replace_section(once, f"{section.HEADING}\n\nsecond\n")
    assert again == once.replace("first", "second")


def fake_tools(folder, npm_exit):
    """A bin folder holding `node` and an `npm` that prints a line and exits npm_exit."""
    folder.mkdir()
    for name, code in (("node", 0), ("npm", npm_exit)):
        (folder / name).write_text(f"#!/bin/sh\necho 'npm error 404 Not Found - GET x'>&2\n"
                                   f"exit {code}\n")
        (folder / name).chmod(0o755)
    return folder


def test_without_npm_the_references_are_skipped_with_a_line_saying_why(tmp_path, monkeypatch):
    npm_servers, references = bench_module("npm_servers"), bench_module("references")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm, no node
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert npm_servers.cache_folder().parent == tmp_path / "cache" / "vorel-lite-bench"
    said = []
    result = references.run_references(None, None, said.append)
    assert result == {"skipped": "npm is missing (install Node.js and npm to compare with Prism "
                                 "and json-server)"}
    assert said == ["reference servers (Prism, json-server) skipped: npm is missing (install "
                    "Node.js and npm to compare with Prism and json-server)"]
    text = bench_module("references_section").references_section(
        {**references_results(), "references": result})
    assert "**Skipped:** npm is missing (install Node.js and npm" in text
    assert "| `POST /api/v1/leads` / bare create" in text  # the in-process part still shown


def test_a_failed_npm_install_is_a_reason_and_installs_nothing(tmp_path, monkeypatch):
    npm_servers = bench_module("npm_servers")
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path / "bin", 1)))
    reason = npm_servers.install_or_reason(tmp_path / "cache")
    assert reason == "npm ci failed (exit 1): npm error 404 Not Found - GET x"
    assert not (tmp_path / "cache" / ".installed").exists()
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path / "bin2", 0)))
    assert npm_servers.install_or_reason(tmp_path / "cache") == (
        tmp_path / "cache" / "node_modules" / ".bin")
    assert (tmp_path / "cache" / "package-lock.json").read_bytes() == (
        ROOT / "bench" / "reference" / "package-lock.json").read_bytes()


def test_the_bare_read_answers_the_tenants_lead_and_404_for_another_tenant(tmp_path):
    seed, bare_app = bench_module("seed"), bench_module("bare_app")
    database = tmp_path / "bench.db"
    tenant, _ = seed.provision(database, tmp_path / "instance", 1)
    seed.seed_leads(database, tenant, 0, 3)
    client = bare_app.create_app(database, tenant).test_client()
    lead = client.get(f"/bare-read/{seed.lead_id(2)}")
    assert lead.status_code == 200
    body = lead.get_json()
    assert body["id"] == seed.lead_id(2) and body["tenant_id"] == tenant
    assert body["conversation_id"] == seed.conversation_id(2)
    assert isinstance(body["attributes"], dict)
    assert bare_app.create_app(database, "another-tenant").test_client().get(
        f"/bare-read/{seed.lead_id(2)}").status_code == 404


def floor_app(tmp_path):
    """A bench app with the pipeline floors on a seeded database: (app, database, keys);
    keys: all scopes, read only, leads:write only."""
    import dataclasses

    from vorel_lite.keys import issue_key
    from vorel_lite.models import Tenant

    run = bench_module("run")
    plan = dataclasses.replace(run.QUICK, http_leads=3, keys=1, fresh_pool=4)
    http = run.HttpDatabase(tmp_path / "http", plan)
    app = run.floor_app(http)
    with app.app_context():
        tenant = Tenant.get_by_id(http.tenant)
        narrow = [issue_key(tenant, [scope])[1] for scope in ("read", "leads:write")]
    return app, http, [http.keys[0], *narrow]


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def floor_body(n):
    seed = bench_module("seed")
    return {"conversation_id": seed.fresh_conversation_id(n), "name": f"Floor {n}",
            "email": f"floor{n}@example.com", "attributes": {"bedrooms": 2}}


def test_the_pipeline_floors_answer_as_the_bare_routes_do_through_the_whole_pipeline(tmp_path):
    seed = bench_module("seed")
    app, http, (key, read_only, write_only) = floor_app(tmp_path)
    client = app.test_client()
    bare = bench_module("bare_app").create_app(http.path, http.tenant).test_client()
    lead_id = seed.lead_id(2)
    read = client.get(f"/api/v1/bench-floor/leads/{lead_id}", headers=bearer(read_only))
    assert read.status_code == 200
    assert read.get_json() == bare.get(f"/bare-read/{lead_id}").get_json()
    assert read.get_json()["id"] == lead_id and read.get_json()["tenant_id"] == http.tenant
    # The pipeline ran: the limiter's headers and the request id, as on the real read.
    real = client.get(f"/api/v1/leads/{lead_id}", headers=bearer(read_only))
    pipeline = {name for name in real.headers.keys() if name.startswith(("X-RateLimit", "X-Req"))}
    assert len(pipeline) >= 3 and pipeline <= set(read.headers.keys())
    missing = client.get(f"/api/v1/bench-floor/leads/{seed.lead_id(99)}",
                         headers=bearer(read_only))
    assert (missing.status_code, missing.get_json()) == (404, {"error": "not_found"})

    created = client.post("/api/v1/bench-floor/leads", json=floor_body(0),
                          headers=bearer(write_only))
    assert created.status_code == 201
    bare_created = bare.post("/bare-write", json=floor_body(1))
    assert bare_created.status_code == 201
    lead = created.get_json()
    assert set(lead) == set(bare_created.get_json())
    assert (lead["conversation_id"], lead["name"]) == (seed.fresh_conversation_id(0), "Floor 0")
    # Written for the key's tenant: the real API reads it back, and its event.
    stored = client.get(f"/api/v1/leads/{lead['id']}", headers=bearer(key))
    assert stored.status_code == 200 and stored.get_json()["name"] == "Floor 0"
    events = client.get("/api/v1/events?limit=100", headers=bearer(key)).get_json()["data"]
    assert [(event["event"], event["data"]["name"]) for event in events
            if event["data"].get("id") == lead["id"]] == [("lead.created", "Floor 0")]
    app.extensions["vorel_db"].close_all()


def test_the_pipeline_floors_refuse_a_missing_or_wrong_key_and_a_key_without_the_scope(tmp_path):
    from helpers import assert_error

    app, http, (key, read_only, write_only) = floor_app(tmp_path)
    client = app.test_client()
    create = ("POST", "/api/v1/bench-floor/leads", {"json": floor_body(2)})
    read = ("GET", f"/api/v1/bench-floor/leads/{bench_module('seed').lead_id(1)}", {})
    for (method, path, body), narrow, scope in ((create, read_only, "leads:write"),
                                                (read, write_only, "read")):
        for headers in ({}, bearer("vapk_live_" + "0" * 48), bearer("not-a-key"),
                        {"Authorization": key}):  # no scheme
            response = client.open(path, method=method, headers=headers, **body)
            assert_error(response, 401, "unauthorized")
        error = assert_error(client.open(path, method=method, headers=bearer(narrow), **body),
                             403, "forbidden")
        assert f"lacks the '{scope}' scope" in error["message"]
    # Nothing refused was written: the conversation can still get its lead.
    assert client.post(create[1], headers=bearer(key), **create[2]).status_code == 201
    app.extensions["vorel_db"].close_all()


def test_the_document_says_how_gunicorn_ran_and_old_runs_read_as_sync_workers():
    serving = bench_module("tables").serving
    run = bench_module("run")
    plan = run.Plan()
    assert plan.gunicorn_options() == {"worker_class": "gthread", "threads": 4,
                                       "reuse_port": True}
    assert serving(plan.__dict__) == ("`-k gthread --threads 4 --reuse-port` (connections kept "
                                      "alive between requests, as the README runs it)")
    assert serving({}) == serving({"worker_class": "sync", "worker_threads": 1}) == (
        "`-k sync` (each connection closed after one answer: wrk connects anew for every "
        "request)")
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"-k gthread --threads {plan.worker_threads} --reuse-port" in readme


class SlowOddNumbers(BaseHTTPRequestHandler):
    """Answers /n/<number> at once when number is even, after 0.1 s when it is odd."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen = None  # the numbers asked for, set by the test

    def do_GET(self):
        number = int(self.path.rsplit("/", 1)[1])
        self.seen.append(number)
        if number % 2:
            time.sleep(0.1)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_wrk_reports_every_number_its_requests_took_though_one_thread_sent_more(tmp_path):
    if shutil.which("wrk") is None:
        skip_or_fail("wrk is not installed (make bench and .ci/run install it)")
    loadgen, endpoints = bench_module("loadgen"), bench_module("endpoints")
    SlowOddNumbers.seen = seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowOddNumbers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    keys = tmp_path / "keys"
    keys.write_text("k\n")
    start = 1000  # even: wrk's second thread takes the odd numbers, answered slowly
    try:
        result = loadgen.run_wrk(f"http://127.0.0.1:{server.server_port}",
                                 endpoints.Endpoint("n", "GET", "/n/{unique}"),
                                 loadgen.Target(str(keys)), start, threads=2, connections=2,
                                 duration=1)
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == len(set(seen)) >= result.requests > 0
    # wrk builds one request of its first thread to check it, and never sends it.
    assert start <= min(seen) <= start + 1
    # The fast thread went far beyond twice the slow one's count: counting requests would
    # hand numbers already taken to the next run.
    assert max(seen) >= start + result.requests
    # A number may have been taken by a request the run's end kept from being sent.
    assert max(seen) + 1 <= start + result.numbers_used <= max(seen) + 1 + 2 * 2
