"""In-process only, in a minute: each endpoint against the bare route, the bare create and
read, and their pipeline floors; then issue 11's targets against those floors.

    .venv/bin/python bench/quick.py [--seconds S] [--set NAME=JSON ...]

For judging one change: run it before and after, on the same machine with nothing else
running, and compare the µs per request. --set overrides a setting of the app, e.g.
`--set RATELIMIT_ENABLED=false` shows what the rate limiter costs by its absence.
"""
import argparse
import json
import dataclasses
import tempfile
from pathlib import Path

import run  # sets up the import path and clears VOREL_* variables
from references_section import FLOOR_HEADER, floor_rows
from run import QUICK, HttpDatabase, inprocess, inprocess_kinds
from tables import table


def setting(text):
    name, _, value = text.partition("=")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint")
    parser.add_argument("--set", type=setting, action="append", default=[], dest="settings",
                        metavar="NAME=JSON", help="a setting of the app (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vorel-quick-") as work:
        inprocess.quiet_request_log()
        # Every request takes a number of the pool, creates or not.
        plan = dataclasses.replace(QUICK, fresh_pool=int(args.seconds * 20_000) + 10_000)
        http = HttpDatabase(Path(work) / "http", plan)
        app, _, _, kinds = inprocess_kinds(http, **dict(args.settings))
        rows = inprocess.compare(kinds, args.seconds, run.INPROCESS_BLOCK)
        app.extensions["vorel_db"].close_all()
    print(f"{'endpoint':40} {'µs/request':>10} {'p50 µs':>8} {'ratio to bare':>14}")
    for row in rows:
        print(f"{row['endpoint']:40} {1e6 / row['rps']:10.0f} {row['p50'] * 1000:8.0f} "
              f"{row['ratio']:14.1%}")
    print(f"\nissue 11's targets (µs per request over µs per request):\n"
          f"{table(FLOOR_HEADER, floor_rows(rows))}")


if __name__ == "__main__":
    main()
