"""
Airflow's real triggerer: ``airflow triggerer --capacity N`` running N deferred task instances whose
triggers are the provider's ``HeyGenVideoStatusTrigger`` (coalesced v3 polling), against the same
number of far-future ``DateTimeTrigger`` (what Airflow costs with idle triggers) in the same run.

Airflow 3.3 only runs triggers linked to a task instance, an asset watcher or a callback, so each run
gets a fresh ``AIRFLOW_HOME`` (a copy of one migrated SQLite database) in which a worker process makes,
through the ORM, a DAG, a DagRun, N task instances in state ``deferred`` and their trigger rows, plus
one more deferred task whose trigger is the probe :mod:`loop_lag_trigger` (loop lag, runner CPU and
RSS, garbage-collection pauses, from inside the triggerer's runner process). Then a real triggerer
runs them against the emulator (its own process), and the figures come from a window after every
trigger has started and every cohort has polled at least once:

* runner CPU (the subprocess that runs the triggers' event loop) per trigger per poll interval, and
  the ratio to the ``DateTimeTrigger`` run; the supervisor's CPU (log files, DB) apart;
* runner RSS growth per trigger; loop lag p99 and max; the longest garbage collection;
* the emulator's request log in the window: bulk calls and per-video status GETs per video per cycle;
* start-up: seconds from the triggerer's start to every trigger running.

The triggerer's supervisor keeps a log file open per trigger, so the open-file limit is raised above
the capacity; ``[triggerer] max_trigger_to_select_per_loop`` (50 by default, one batch per loop) is
raised to the capacity (see ``docs/deployment.rst``); start-up still runs at about 25 triggers a
second on this machine, so the 10,000 case is opt-in (``HEYGEN_BENCH_LARGE=1``).

    .venv/bin/python bench/real_triggerer.py [--quick]
    HEYGEN_BENCH_LARGE=1 .venv/bin/python bench/real_triggerer.py   # adds N = 10,000 (about 25 minutes more)
    HEYGEN_BENCH_LARGE=only .venv/bin/python bench/real_triggerer.py   # N = 10,000 alone
    HEYGEN_BENCH_LARGE=5000 .venv/bin/python bench/real_triggerer.py   # another N alone, same window
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import triggerer_scale
from _common import (
    BENCH_DIR,
    Report,
    airflow_env,
    bench_main,
    count_status_calls,
    create_videos,
    percentile,
    print_table,
    raise_open_file_limit,
    ratio,
    run_worker,
    running_emulator,
    write_json,
)

DAG_ID = "bench_real_triggerer"
PROVIDER_CLASSPATH = "heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger"
DATETIME_CLASSPATH = "airflow.providers.standard.triggers.temporal.DateTimeTrigger"
PROBE_CLASSPATH = "loop_lag_trigger.LoopLagTrigger"
#: ``provider``: coalesced v3 polling; ``provider_per_video``: the same trigger on a ``legacy``
#: connection, polled video by video as before coalescing; ``datetime``: Airflow's idle cost. A
#: ``_gc_frozen`` variant (run only when named in ``HEYGEN_BENCH_VARIANTS``) is the same with the
#: runner's garbage collector frozen once every trigger has started; a ``_cleanup_patched`` one runs
#: Airflow's runner with its once-a-second clean-up pass patched not to copy and yield over every
#: trigger (see :mod:`loop_lag_trigger`). Both are experiments on Airflow, not on the provider.
#: ``provider_freeze_setting`` is the provider with its own opt-in ``[heygen] freeze_triggerer_heap``
#: (:mod:`heygen_provider.triggers.heap`), also run only when named.
VARIANTS = (
    "datetime",
    "provider",
    "provider_per_video",
    "datetime_gc_frozen",
    "provider_gc_frozen",
    "datetime_cleanup_patched",
    "provider_cleanup_patched",
    "provider_freeze_setting",
)
IDLE = "datetime"
FROZEN = "_gc_frozen"
CLEANUP_PATCHED = "_cleanup_patched"
FREEZE_SETTING = "provider_freeze_setting"
CPU_RATIO_GOAL = 1.5
LAG_P99_GOAL_MS = 100.0
STALL_GOAL_MS = 500.0
STARTUP_TIMEOUT = 900.0
#: Set to 1 to add the 10,000-trigger case: Airflow starts about 25 triggers a second here, so each
#: 10,000 run takes about 9 minutes and two of them do not fit in ``make bench``. ``only`` runs just
#: that case; a number runs that N alone with the large case's window (how stalls grow with N).
LARGE_VARIABLE = "HEYGEN_BENCH_LARGE"
#: Comma-separated variants to run at each case's N instead of the case's own (e.g. ``provider``).
VARIANTS_VARIABLE = "HEYGEN_BENCH_VARIANTS"
#: Set to 1 to keep each run's ``AIRFLOW_HOME`` (triggerer log, trigger logs, probe records).
KEEP_VARIABLE = "HEYGEN_BENCH_KEEP"


@dataclass(frozen=True)
class Case(triggerer_scale.Case):
    """``n`` triggers of each variant, polling every ``interval`` s, measured for ``window`` s."""

    @property
    def warmup(self) -> float:
        # Every cohort (random phase in [0, interval)) has polled once after the last trigger joined.
        return self.interval + 2.0


def cases(quick: bool) -> list[Case]:
    """
    ``--quick`` (``make test``'s smoke): 100 triggers, two 2 s cycles; ``make bench``: 1,000; with
    ``HEYGEN_BENCH_LARGE=1`` also 10,000, with ``HEYGEN_BENCH_LARGE=only`` just 10,000, with a number
    just that N (same window as 10,000).
    """
    if quick:
        return [Case(100, 2.0, 4.0, ("datetime", "provider"), headline=True)]
    large = os.environ.get(LARGE_VARIABLE, "")
    if large.isdigit() and large not in ("0", "1"):
        return [_large_case(int(large))]
    plan = [] if large == "only" else [Case(1000, 30.0, 30.0, VARIANTS[:3], headline=not large)]
    if large in ("1", "only"):
        plan.append(_large_case(10_000))
    return plan


def _large_case(n: int) -> Case:
    # Eight poll cycles: full garbage collections come every few cycles at most, and one in the
    # window is what the stall goal is about.
    return Case(n, 30.0, 240.0, ("datetime", "provider"), headline=True)


# -- worker: make the deferred task instances through the ORM ----------------------------------------


def populate(arguments: argparse.Namespace) -> None:
    """In the run's ``AIRFLOW_HOME``: a DAG, a DagRun, N deferred task instances and their triggers."""
    import datetime
    import uuid

    from airflow.models.dag import DagModel
    from airflow.models.dag_version import DagVersion
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType
    from sqlalchemy import insert

    video_ids = json.loads(Path(arguments.ids).read_text())[: arguments.n]
    now = datetime.datetime.now(datetime.timezone.utc)
    far_future = now + datetime.timedelta(days=365)
    end_time = time.time() + 24 * 3600

    idle = arguments.variant.removesuffix(FROZEN).removesuffix(CLEANUP_PATCHED) == IDLE

    def kwargs_of(video_id: str) -> dict[str, Any]:
        if idle:
            return {"moment": far_future, "end_from_trigger": False}
        return {
            "video_id": video_id,
            "heygen_conn_id": "heygen_default",
            "poll_interval": arguments.interval,
            "end_time": end_time,
        }

    classpath = DATETIME_CLASSPATH if idle else PROVIDER_CLASSPATH
    with create_session() as session:
        session.add(DagBundleModel(name="bench"))
        session.flush()
        session.add(DagModel(dag_id=DAG_ID, bundle_name="bench", fileloc="/dev/null", is_paused=False))
        session.flush()
        # The triggerer skips a task instance without a DAG version (what an Airflow 2 upgrade leaves).
        version = DagVersion(dag_id=DAG_ID, version_number=1, bundle_name="bench")
        session.add(version)
        session.flush()
        run = DagRun(
            dag_id=DAG_ID,
            run_id="bench",
            run_type=DagRunType.MANUAL,
            state=DagRunState.RUNNING,
            logical_date=now,
            run_after=now,
            start_date=now,
        )
        session.add(run)
        # The probe first (and weightiest), so it starts before the triggers it watches.
        freeze_at_tasks = len(video_ids) + 1 if arguments.variant.endswith(FROZEN) else 0
        probe_kwargs = {
            "path": arguments.probe,
            "freeze_at_tasks": freeze_at_tasks,
            "patch_cleanup": arguments.variant.endswith(CLEANUP_PATCHED),
        }
        probe = Trigger(classpath=PROBE_CLASSPATH, kwargs=probe_kwargs)
        triggers = [Trigger(classpath=classpath, kwargs=kwargs_of(video_id)) for video_id in video_ids]
        session.add(probe)
        session.flush()
        session.add_all(triggers)
        session.flush()
        rows = [
            _task_row("probe", probe.id, weight=1_000_000),
            *(_task_row(f"wait_{number}", trigger.id, weight=1) for number, trigger in enumerate(triggers)),
        ]
        for row in rows:
            row.update(dag_id=DAG_ID, run_id="bench", id=uuid.uuid4(), state=TaskInstanceState.DEFERRED)
            row.update(dag_version_id=version.id)
            row.update(start_date=now, queued_dttm=now)
        session.execute(insert(TaskInstance), rows)
    write_json(arguments.out, {"triggers": len(rows)})


def _task_row(task_id: str, trigger_id: int, weight: int) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "map_index": -1,
        "try_number": 1,
        "max_tries": 0,
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": weight,
        "trigger_id": trigger_id,
        "operator": "BenchDeferred",
        "queue": "default",
        "hostname": "",
        "unixname": "bench",
        "executor_config": {},
    }


# -- parent: the emulator, the triggerer, the report --------------------------------------------------


def run(quick: bool = False) -> Report:
    raise_open_file_limit()
    plan = cases(quick)
    report = Report("real_triggerer")
    runs: list[dict[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="heygen-bench-triggerer-"))
    try:
        template = scratch / "template"
        migrate_started = time.monotonic()
        env = {**airflow_env(str(template)), **fixed_settings()}
        subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        print(f"  real triggerer: template database migrated in {time.monotonic() - migrate_started:.0f} s", flush=True)
        # A render slot for every video (v3 refuses a create beyond the account's slots).
        videos = max(case.n for case in plan)
        with running_emulator(render_seconds=3600.0, concurrent_renders=videos, request_log_limit=200_000) as emulator:
            video_ids = create_videos(emulator.base_url, emulator.api_key, videos)
            ids_path = scratch / "ids.json"
            ids_path.write_text(json.dumps(video_ids))
            only = set(filter(None, os.environ.get(VARIANTS_VARIABLE, "").split(",")))
            # Named variants replace each case's own, in the order of VARIANTS.
            runs_planned = [(c, v) for c in plan for v in ([v for v in VARIANTS if v in only] if only else c.variants)]
            for number, (case, variant) in enumerate(runs_planned):
                home = scratch / f"run-{number}"
                home.mkdir()
                shutil.copy(template / "airflow.db", home / "airflow.db")
                runs.append(run_variant(emulator, case, variant, home, ids_path))
                if os.environ.get(KEEP_VARIABLE) != "1":
                    shutil.rmtree(home, ignore_errors=True)
    finally:
        if os.environ.get(KEEP_VARIABLE) == "1":
            print(f"  real triggerer: runs kept in {scratch}", flush=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    add_ratios(runs)
    report.figures = {"runs": runs, "baseline": IDLE, "settings": fixed_settings(capacity="N + 1")}
    print_runs(runs)
    judge(report, runs)
    return report


def fixed_settings(capacity: str | None = None) -> dict[str, str]:
    """Airflow settings every run shares; the fernet key encrypts the trigger kwargs of all of them."""
    settings = {
        "AIRFLOW__CORE__FERNET_KEY": "hr9Wk5sIuIWk_hVNvnhPmz6w7bjDyjbwzNbhTFB1KHg=",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_ENABLED": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    if capacity is not None:
        settings["AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP"] = capacity
    return settings


def run_variant(emulator: Any, case: Case, variant: str, home: Path, ids_path: Path) -> dict[str, Any]:
    probe_path = home / "probe.jsonl"
    api_version = triggerer_scale.PER_VIDEO_GENERATION.name if variant == "provider_per_video" else None
    env = {
        **airflow_env(str(home)),
        **fixed_settings(str(case.n + 1)),
        **emulator.airflow_connection(api_version=api_version).env(),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
        "AIRFLOW__HEYGEN__FREEZE_TRIGGERER_HEAP": str(variant == FREEZE_SETTING),
    }
    print(f"  real triggerer: {variant} N={case.n} interval={case.interval:g}s window={case.window:g}s", flush=True)
    arguments = ["--worker", "--variant", variant, "--n", str(case.n), "--interval", str(case.interval)]
    arguments += ["--ids", str(ids_path), "--probe", str(probe_path)]
    populate_started = time.monotonic()
    run_worker(Path(__file__), arguments, env=env, timeout=600)
    populate_seconds = time.monotonic() - populate_started
    emulator.clear_requests()

    log = (home / "triggerer.log").open("w")
    command = [str(Path(sys.executable).with_name("airflow")), "triggerer", "--capacity", str(case.n + 1)]
    command.append("--skip-serve-logs")
    started = time.monotonic()
    triggerer = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        startup = wait_for_tasks(probe_path, case.n + 1, triggerer, started)
        supervisor_cpu_start = process_cpu(triggerer.pid)
        time.sleep(case.warmup)
        window_start = time.time()
        supervisor_cpu_start = process_cpu(triggerer.pid)
        time.sleep(case.window)
        window_end = time.time()
        supervisor_cpu = process_cpu(triggerer.pid) - supervisor_cpu_start
        time.sleep(1.5)  # the probe's record covering the window's end
    finally:
        stop(triggerer)
        log.close()
    records = [json.loads(line) for line in probe_path.read_text().splitlines() if line.strip()]
    requests = emulator.requests(method="GET")
    result = summarise(records, requests, case, (window_start, window_end))
    result.update(
        variant=variant,
        populate_s=round(populate_seconds, 1),
        startup_s=round(startup, 1),
        supervisor_cpu_s=round(supervisor_cpu, 2),
        headline=case.headline,
    )
    tail = (home / "triggerer.log").read_text(errors="replace")
    result["triggerer_errors"] = sum(1 for line in tail.splitlines() if "[error" in line or "Traceback" in line)
    # Each run's figures as soon as it ends: a 10,000 run takes minutes, and a later one may not finish.
    print("    " + json.dumps(result), flush=True)
    return result


def wait_for_tasks(probe_path: Path, wanted: int, triggerer: subprocess.Popen[bytes], started: float) -> float:
    """Seconds until the runner's loop holds a task per trigger (the probe counts them)."""
    while time.monotonic() - started < STARTUP_TIMEOUT:
        if triggerer.poll() is not None:
            raise RuntimeError(f"the triggerer exited with {triggerer.returncode} during start-up")
        if probe_path.exists():
            lines = probe_path.read_text().splitlines()
            if lines and json.loads(lines[-1])["tasks"] >= wanted:
                return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"not every trigger started within {STARTUP_TIMEOUT:g} s")


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds of one process, not its children (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(triggerer: subprocess.Popen[bytes]) -> None:
    """SIGTERM the triggerer (it stops its runner), then its whole session if it lingers."""
    if triggerer.poll() is None:
        triggerer.send_signal(signal.SIGTERM)
        try:
            triggerer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(triggerer.pid, signal.SIGKILL)
            triggerer.wait()


def summarise(
    records: list[dict[str, Any]], requests: list[Any], case: Case, window: tuple[float, float]
) -> dict[str, Any]:
    start, end = window
    inside = [record for record in records if start <= record["time"] <= end]
    if len(inside) < 2:
        raise RuntimeError("the probe wrote too few records in the window")
    first, last = inside[0], inside[-1]
    seconds = last["time"] - first["time"]
    cycles = case.n * seconds / case.interval
    lags = [lag for record in inside[1:] for lag in record["lag_s"]]
    pauses = [pause for record in inside[1:] for pause in record["gc"]]
    runner_cpu = last["cpu_s"] - first["cpu_s"]
    # Requests over the exact window (a whole number of intervals: each cohort polls once per interval).
    windowed = [entry for entry in requests if start <= entry.timestamp < end]
    counts = count_status_calls(windowed)
    baseline_rss = records[0]
    rss_growth_kib = last["rss_kib"] - baseline_rss["rss_kib"]
    return {
        "n": case.n,
        "interval_s": case.interval,
        "window_s": round(seconds, 1),
        "runner_cpu_s": round(runner_cpu, 2),
        "runner_cpu_utilisation": runner_cpu / seconds,
        "runner_cpu_us_per_trigger_cycle": 1e6 * runner_cpu / cycles,
        "runner_rss_mib": last["rss_kib"] / 1024,
        # Since the probe's first record: includes what the triggers import (aiohttp, the models).
        "runner_kib_per_trigger": rss_growth_kib / max(1, last["tasks"] - baseline_rss["tasks"]),
        "lag_p99_ms": 1000 * percentile(lags, 0.99),
        "lag_max_ms": 1000 * max(lags, default=0.0),
        "gc_max_ms": 1000 * max((pause for _, pause in pauses), default=0.0),
        "gc_full_collections": sum(1 for generation, _ in pauses if generation == 2),
        "bulk_calls": counts["bulk"],
        "per_video_gets": counts["per_video"],
        "requests_per_video_cycle": (counts["bulk"] + counts["per_video"]) / (case.n * (end - start) / case.interval),
        "tasks": last["tasks"],
        "gc_frozen_objects": last.get("frozen_objects", 0),
        "patched_cleanup_calls": last.get("patched_cleanup_calls", 0),
    }


def add_ratios(runs: list[dict[str, Any]]) -> None:
    """Runner CPU over the idle run's at the same N; RSS per trigger above it."""
    idle = {run["n"]: run for run in runs if run["variant"] == IDLE}
    for run in runs:
        baseline = idle.get(run["n"])
        if baseline is None:
            continue
        run["runner_cpu_vs_idle"] = ratio(run["runner_cpu_utilisation"], baseline["runner_cpu_utilisation"])
        run["runner_kib_per_trigger_over_idle"] = 1024 * (run["runner_rss_mib"] - baseline["runner_rss_mib"]) / run["n"]


def print_runs(runs: list[dict[str, Any]]) -> None:
    headers = ["variant", "N", "start s", "runner CPU %", "x idle", "us/trigger/cycle", "RSS MiB", "KiB/trigger"]
    headers += ["lag p99 ms", "lag max ms", "gc max ms", "bulk", "per-video", "req/video/cycle", "errors"]
    rows = [
        [
            run["variant"],
            run["n"],
            run["startup_s"],
            100 * run["runner_cpu_utilisation"],
            run.get("runner_cpu_vs_idle"),
            run["runner_cpu_us_per_trigger_cycle"],
            run["runner_rss_mib"],
            run.get("runner_kib_per_trigger_over_idle"),
            run["lag_p99_ms"],
            run["lag_max_ms"],
            run["gc_max_ms"],
            run["bulk_calls"],
            run["per_video_gets"],
            run["requests_per_video_cycle"],
            run["triggerer_errors"],
        ]
        for run in runs
    ]
    print_table("Real `airflow triggerer` (ratios against DateTimeTrigger at the same N)", headers, rows)


def judge(report: Report, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        if run["variant"] != "provider":
            continue
        label = f"N={run['n']:,}"
        value = run.get("runner_cpu_vs_idle")
        report.goal(
            f"runner CPU vs idle DateTimeTrigger, {label}",
            value,
            f"<= {CPU_RATIO_GOAL}x",
            value is not None and value <= CPU_RATIO_GOAL,
        )
        expected = -(-run["n"] // 100) / run["n"]
        report.goal(
            f"requests per video per cycle, {label}",
            run["requests_per_video_cycle"],
            f"<= {expected:.3g} (+10% for the window's edges)",
            run["requests_per_video_cycle"] <= 1.1 * expected,
        )
        if run["headline"]:
            report.goal(
                f"loop lag p99, {label}",
                run["lag_p99_ms"],
                f"< {LAG_P99_GOAL_MS:g} ms",
                run["lag_p99_ms"] < LAG_P99_GOAL_MS,
            )
            report.goal(
                f"longest stall, {label}",
                run["lag_max_ms"],
                f"< {STALL_GOAL_MS:g} ms",
                run["lag_max_ms"] < STALL_GOAL_MS,
            )


def main() -> None:
    options = [
        ("--variant", {"choices": VARIANTS}),
        ("--n", {"type": int}),
        ("--interval", {"type": float}),
        ("--ids", {}),
        ("--probe", {}),
    ]
    bench_main(__doc__, run, populate, options)


if __name__ == "__main__":
    main()
