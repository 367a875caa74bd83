"""
Run every benchmark of issue 8, print their tables and PASS/MISS goal lines, write the results as
JSON and regenerate the plots for the docs. ``make bench`` runs this (about 20 minutes on 2 cores).

    .venv/bin/python bench/run_all.py             # full run: bench/results/latest.json + plots
    .venv/bin/python bench/run_all.py --quick     # smoke run (about a minute): bench/results/quick.json
    .venv/bin/python bench/run_all.py --only triggerer,download --strict

Exits 0 whatever the figures (the machine is shared and noisy); ``--strict`` exits 1 on a MISS.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import api_calls_per_video
import crash_window
import dag_parse_time
import download_throughput
import emulator_capacity
import plot
import real_triggerer
import triggerer_scale
from _common import RESULTS_DIR, Goal, Report, machine_info, raise_open_file_limit, write_json

BENCHMARKS: dict[str, Callable[[bool], Report]] = {
    "triggerer": triggerer_scale.run,
    "dag_parse": dag_parse_time.run,
    "download": download_throughput.run,
    "api_calls": api_calls_per_video.run,
    "emulator": emulator_capacity.run,
    "crash_window": crash_window.run,
    "real_triggerer": real_triggerer.run,
}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N, shorter windows, fewer repeats")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--output", type=Path, help="results file (default bench/results/latest.json, or quick.json)")
    parser.add_argument("--no-plot", action="store_true", help="do not regenerate docs/_static/benchmarks/")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    return parser.parse_args(argv)


def selected(only: str | None) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return names


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    raise_open_file_limit()
    started = time.monotonic()
    results: dict[str, Any] = {
        "command": shlex.join(["bench/run_all.py", *(sys.argv[1:] if argv is None else argv)]),
        "quick": arguments.quick,
        "machine": machine_info(),
        "benchmarks": {},
    }
    goals: list[Goal] = []
    for name in selected(arguments.only):
        print(f"\n### {name}", flush=True)
        began = time.monotonic()
        report = BENCHMARKS[name](arguments.quick)
        results["benchmarks"][name] = {**report.as_dict(), "seconds": round(time.monotonic() - began, 1)}
        goals += report.goals
    results["seconds"] = round(time.monotonic() - started, 1)

    output = arguments.output or RESULTS_DIR / ("quick.json" if arguments.quick else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json(output, results)
    if not arguments.no_plot and not arguments.quick:
        for path in plot.write_all(results):
            print(f"plot: {path}")
    print(f"\n== Goals ({results['seconds']:.0f} s in all; results in {output})")
    for goal in goals:
        print(goal.line())
    missed = [goal for goal in goals if not goal.passed]
    return 1 if arguments.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
