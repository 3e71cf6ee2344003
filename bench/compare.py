"""Issue 11's comparisons alone, in a few minutes: the in-process floors and the HTTP run
against Prism and json-server; prints their section and, with --docs, replaces it in
docs/benchmarks.md (the rest of the page is left as it is).

    .venv/bin/python bench/compare.py [--seconds S] [--rounds N] [--docs DIR] [--results FILE]

--results renders the section again from the raw figures of an earlier run, measuring nothing.
"""
import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import run  # sets up the import path and clears VOREL_* variables
from run import Plan, HttpDatabase, inprocess, inprocess_kinds, log
import endpoints
import machine
import loadgen
import references
from references_section import references_headline, references_section, replace_section

KINDS = (endpoints.BARE.name, endpoints.FLOOR.name, endpoints.PIPELINE_CREATE.name,
         endpoints.VALIDATED_CREATE.name, endpoints.BARE_READ.name, endpoints.PIPELINE_READ.name,
         endpoints.ENDPOINTS[0].name, endpoints.ENDPOINTS[1].name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="in-process, per endpoint")
    parser.add_argument("--rounds", type=int, default=Plan.reference_rounds)
    parser.add_argument("--docs", help="the folder of the benchmarks.md to update")
    parser.add_argument("--results", help="raw figures of an earlier run to render again")
    args = parser.parse_args()
    if args.results:
        return render(json.loads(Path(args.results).read_text()), args.docs)
    plan = dataclasses.replace(Plan(), reference_rounds=args.rounds, fresh_pool=150_000)
    inprocess.quiet_request_log()
    results = {"plan": plan.__dict__, "machine": machine.describe(loadgen.wrk_version())}
    with tempfile.TemporaryDirectory(prefix="vorel-compare-") as work:
        http = HttpDatabase(Path(work) / "http", plan)
        app, filler, _, kinds = inprocess_kinds(http)
        rows = inprocess.compare([kind for kind in kinds if kind[0].name in KINDS],
                                 args.seconds, run.INPROCESS_BLOCK)
        http.fresh_used = filler.next_unique
        app.extensions["vorel_db"].close_all()
        results["inprocess"] = rows
        results["references"] = references.run_references(http, plan, log)
    saved = Path(tempfile.gettempdir()) / "vorel-compare-results.json"
    saved.write_text(json.dumps(results, indent=1))
    render(results, args.docs)
    log(f"raw figures: {saved}")


def render(results, docs):
    """Print the section and its headline line; with docs, replace the section there."""
    section = references_section(results)
    print(references_headline(results))
    print(section)
    if docs:
        page = Path(docs) / "benchmarks.md"
        page.write_text(replace_section(page.read_text(encoding="utf-8"), section),
                        encoding="utf-8")
        log(f"replaced the section in {page}")


if __name__ == "__main__":
    main()
