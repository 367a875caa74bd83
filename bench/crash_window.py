"""
The crash window on the ``legacy`` API generation: the time between HeyGen's answer to the paid create
and the moment the submission record is written. A worker killed inside it leaves a video that a retry
cannot know (v3's idempotency key closes the window; legacy has no such key).

A worker process runs real ``dag.test()`` runs of one generate task against the emulator, with the
hook's ``create_video_from_body`` and the record write timed from inside (``time.perf_counter``). The window is
"create answered" to "record written"; the baseline, measured in the same runs, is the record write
alone, so the ratio shows how much of the window is the write itself. On Airflow 3.3 the record is the
task state store, on 3.1 and 3.2 an Airflow Variable: the parent runs the worker in both environments
when ``.venv-airflow-3.1`` exists.

    .venv/bin/python bench/crash_window.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    REPO_DIR,
    VIDEO_INPUTS,
    Report,
    airflow_env,
    bench_main,
    percentile,
    print_table,
    ratio,
    run_worker,
    running_emulator,
)

FLOOR_PYTHON = REPO_DIR / ".venv-airflow-3.1" / "bin" / "python"


DAG_FILE = f"""
from airflow.sdk import DAG
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

with DAG(dag_id="bench_crash_window", schedule=None):
    HeyGenGenerateVideoOperator(
        task_id="generate", video_inputs={VIDEO_INPUTS!r}, title="crash window", wait_for_completion=False
    )
"""


def worker(arguments: argparse.Namespace) -> None:
    import airflow
    from airflow.utils.db import resetdb

    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.operators import render as operator_module
    from heygen_provider.testing.dagbag import load_dag_bag

    resetdb()
    answered: list[float] = []
    windows: list[float] = []
    writes: list[float] = []
    create_video = HeyGenHook.create_video_from_body
    save = operator_module._save

    def timed_create(self: Any, *args: Any, **kwargs: Any) -> Any:
        created = create_video(self, *args, **kwargs)
        answered.append(time.perf_counter())
        return created

    def timed_save(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        save(*args, **kwargs)
        done = time.perf_counter()
        writes.append(done - started)
        windows.append(done - answered[-1])

    HeyGenHook.create_video_from_body = timed_create  # type: ignore[method-assign]
    operator_module._save = timed_save
    dag = load_dag_bag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag("bench_crash_window")
    for run in range(arguments.runs):
        dag_run = dag.test()
        if str(dag_run.state) != "success":
            raise RuntimeError(f"run {run} ended {dag_run.state}")
    Path(arguments.out).write_text(
        json.dumps({"airflow": airflow.__version__, "windows": windows, "writes": writes}), encoding="utf-8"
    )


def _summary(label: str, measured: dict[str, Any]) -> dict[str, Any]:
    windows = [seconds * 1000 for seconds in measured["windows"]]
    writes = [seconds * 1000 for seconds in measured["writes"]]
    return {
        "environment": label,
        "airflow": measured["airflow"],
        "runs": len(windows),
        "window_ms_min": min(windows),
        "window_ms_median": statistics.median(windows),
        "window_ms_p95": percentile(windows, 0.95),
        "window_ms_max": max(windows),
        "record_write_ms_median": statistics.median(writes),
        "window_over_write": ratio(statistics.median(windows), statistics.median(writes)),
    }


def run(quick: bool) -> Report:
    report = Report("crash_window")
    # Quick (``make test``'s smoke): most of the time is each environment's database reset, not the runs.
    runs = 3 if quick else 25
    environments = [("Airflow 3.3 (task state store)", sys.executable)]
    if FLOOR_PYTHON.exists():
        environments.append(("Airflow 3.1 (Variable)", str(FLOOR_PYTHON)))
    rows = []
    with running_emulator(render_seconds=0.2) as emulator:
        connection = emulator.airflow_connection(api_version="legacy").env()
        for label, python in environments:
            dags_folder = Path(tempfile.mkdtemp(prefix="heygen-bench-dags-"))
            (dags_folder / "bench_crash_window.py").write_text(DAG_FILE, encoding="utf-8")
            env = {**airflow_env(), **connection, "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder)}
            measured = run_worker(
                Path(__file__), ["--worker", "--runs", str(runs)], env=env, python=python, timeout=900
            )
            rows.append(_summary(label, measured))
    report.figures["environments"] = rows
    print_table(
        "Crash window on legacy: create answered -> submission record written (ms)",
        ["environment", "runs", "min", "median", "p95", "max", "record write", "window / write"],
        [
            [
                row["environment"],
                row["runs"],
                row["window_ms_min"],
                row["window_ms_median"],
                row["window_ms_p95"],
                row["window_ms_max"],
                row["record_write_ms_median"],
                row["window_over_write"],
            ]
            for row in rows
        ],
    )
    # No goal: the figure is documented (docs/reliability.rst), and v3's idempotency key closes the window.
    return report


if __name__ == "__main__":
    bench_main(__doc__, run, worker, [("--runs", {"type": int, "default": 25})])
