"""
Run every benchmark of issue 8, print their tables and PASS/MISS goal lines, write the results as
JSON and regenerate the plots for the docs. ``make bench`` runs this (about 20 minutes on 2 cores).

    .venv/bin/python bench/run_all.py             # full run: bench/results/latest.json + plots
    .venv/bin/python bench/run_all.py --quick     # quick run (a few minutes): bench/results/quick.json
    .venv/bin/python bench/run_all.py --smoke     # what `make test` runs: --quick, checked, nothing committed
    .venv/bin/python bench/run_all.py --only triggerer,download --strict

Exits 0 whatever the figures (the machine is shared and noisy); ``--strict`` exits 1 on a MISS. A
benchmark that crashes makes the run exit 1 (the others still run). ``--smoke`` is ``--quick
--no-plot`` writing to ``bench/results/test-runs/`` (ignored by git) that also exits 1 when a benchmark
measured nothing (:meth:`_common.Report.measured_nothing`: a table with no rows, a figure that is
zero, missing or NaN where a measurement was expected), never because a figure missed its goal.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Mapping
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
from _common import RESULTS_DIR, TEST_RUNS_DIR, Goal, Report, machine_info, raise_open_file_limit, write_json

Benchmark = Callable[[bool], Report]
BENCHMARKS: dict[str, Benchmark] = {
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
    parser.add_argument(
        "--output", type=Path, help="results file (default bench/results/latest.json, quick.json, test-runs/smoke.json)"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not regenerate docs/_static/benchmarks/")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="--quick --no-plot into bench/results/test-runs/; exit 1 when a benchmark measured nothing",
    )
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        arguments.quick = arguments.no_plot = True
    return arguments


def selected(only: str | None, benchmarks: Mapping[str, Benchmark]) -> list[str]:
    if not only:
        return list(benchmarks)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(benchmarks))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(benchmarks)}")
    return names


def default_output(arguments: argparse.Namespace) -> Path:
    if arguments.smoke:
        return TEST_RUNS_DIR / "smoke.json"
    return RESULTS_DIR / ("quick.json" if arguments.quick else "latest.json")


def main(argv: list[str] | None = None, benchmarks: Mapping[str, Benchmark] = BENCHMARKS) -> int:
    """
    Run the benchmarks named by ``argv`` (all by default) and return the exit status.

    :param argv: the command line, ``sys.argv[1:]`` when ``None``.
    :param benchmarks: the benchmarks by name (the unit tests pass fakes).
    """
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
    # A crash or an empty measurement is a broken benchmark, whatever the machine's load: always reported.
    crashed: dict[str, str] = {}
    measured_nothing: dict[str, list[str]] = {}
    for name in selected(arguments.only, benchmarks):
        print(f"\n### {name}", flush=True)
        began = time.monotonic()
        try:
            report = benchmarks[name](arguments.quick)
        except Exception as error:
            traceback.print_exc()
            crashed[name] = f"{type(error).__name__}: {error}"
            results["benchmarks"][name] = {"error": crashed[name], "seconds": round(time.monotonic() - began, 1)}
            continue
        results["benchmarks"][name] = {**report.as_dict(), "seconds": round(time.monotonic() - began, 1)}
        goals += report.goals
        if problems := report.measured_nothing():
            measured_nothing[name] = problems
    results["seconds"] = round(time.monotonic() - started, 1)

    output = arguments.output or default_output(arguments)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json(output, results)
    if not arguments.no_plot and not arguments.quick and not crashed:
        for path in plot.write_all(results):
            print(f"plot: {path}")
    print(f"\n== Goals ({results['seconds']:.0f} s in all; results in {output})")
    for goal in goals:
        print(goal.line())
    for name, crash in crashed.items():
        print(f"CRASHED  {name}: {crash}")
    for name, problems in measured_nothing.items():
        for problem in problems:
            print(f"MEASURED NOTHING  {name}: {problem}")
    missed = [goal for goal in goals if not goal.passed]
    if crashed or ((arguments.smoke or arguments.strict) and measured_nothing):
        return 1
    return 1 if arguments.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
