"""
DAG parsing: the import time the provider adds on top of ``airflow.sdk``.

Each sample is a fresh interpreter that times ``import airflow.sdk`` (the baseline every DAG file
pays) and then, in the same interpreter, the target: a provider module or an example DAG file
(executed as the DAG processor does, by path). The figure is the median of the target's extra time
over the samples; the targets are interleaved so that load from other processes hits them alike.
The worker also lists the top-level packages the target pulled in, so a heavy import that sneaks
into parse time shows by name.

    .venv/bin/python bench/dag_parse_time.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _common import REPO_DIR, Report, airflow_env, bench_main, print_table, ratio

GOAL_MS = 50.0
#: What a DAG file imports to use the provider: the goal applies to these.
GOAL_TARGETS = ("heygen_provider.operators.heygen",)
MODULES = (
    "heygen_provider.operators.heygen",
    "heygen_provider.sensors.heygen",
    "heygen_provider.operators.download",
)
#: Packages that belong at execute time, not parse time.
HEAVY = ("aiohttp", "requests", "httpx", "heygen_provider.models", "heygen_provider.hooks")

SAMPLE = r"""
import importlib.util, json, sys, time
target = sys.argv[1]
started = time.perf_counter()
import airflow.sdk
sdk_done = time.perf_counter()
before = set(sys.modules)
if target.endswith(".py"):
    # As Airflow's DAG processor does: the DAG folder is importable, for modules shared by DAG files.
    sys.path.insert(0, target.rsplit("/", 1)[0])
    spec = importlib.util.spec_from_file_location("bench_dag_file", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
else:
    importlib.import_module(target)
done = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(json.dumps({"sdk_s": sdk_done - started, "target_s": done - sdk_done, "modules": added}))
"""


def targets() -> list[str]:
    """Provider modules DAG files import, and the example DAG files themselves."""
    dag_files = sorted(str(path) for path in (REPO_DIR / "example_dags").glob("heygen_*.py"))
    return [*MODULES, *dag_files]


def sample(target: str, env: dict[str, str]) -> dict[str, Any]:
    """One fresh interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", SAMPLE, target],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_DIR,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def label(target: str) -> str:
    return f"example_dags/{Path(target).name}" if target.endswith(".py") else target


def run(quick: bool = False) -> Report:
    """Median over fresh interpreters of each target's import time on top of ``airflow.sdk``."""
    import os

    # Quick (``make test``'s smoke): one interpreter per target, about 12 in all; the figures need ``make bench``.
    repeats = 1 if quick else 5
    env = {**os.environ, **airflow_env(), "PYTHONDONTWRITEBYTECODE": "0"}
    names = targets()
    # One discarded interpreter writes Airflow's config in the fresh home; medians absorb the odd
    # first sample that still compiles bytecode.
    sample(names[0], env)
    samples: dict[str, list[dict[str, Any]]] = {target: [] for target in names}
    for _ in range(repeats):
        for target in names:
            samples[target].append(sample(target, env))
    report = Report("dag_parse")
    rows = [summarise(target, samples[target]) for target in names]
    report.figures = {"repeats": repeats, "targets": rows}
    print_table(
        f"DAG parsing: import time on top of airflow.sdk (median of {repeats} fresh interpreters)",
        ["target", "airflow.sdk ms", "added ms", "x sdk", "heavy imports at parse time"],
        [
            [row["target"], row["sdk_ms"], row["added_ms"], row["ratio_vs_sdk"], ", ".join(row["heavy"]) or "none"]
            for row in rows
        ],
    )
    for row in rows:
        if row["target"] in GOAL_TARGETS:
            report.goal(
                f"import time added by {row['target']}",
                row["added_ms"],
                f"< {GOAL_MS:g} ms",
                row["added_ms"] < GOAL_MS,
                f"(airflow.sdk alone: {row['sdk_ms']:.0f} ms)",
            )
    return report


def summarise(target: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    sdk_ms = 1000 * statistics.median(run["sdk_s"] for run in runs)
    added_ms = 1000 * statistics.median(run["target_s"] for run in runs)
    modules = runs[-1]["modules"]
    heavy = sorted({name for name in HEAVY for module in modules if module == name or module.startswith(name + ".")})
    return {
        "target": label(target),
        "sdk_ms": sdk_ms,
        "added_ms": added_ms,
        "added_ms_all": [round(1000 * run["target_s"], 2) for run in runs],
        "ratio_vs_sdk": ratio(added_ms, sdk_ms),
        "modules_added": len(modules),
        "heavy": heavy,
    }


def main() -> None:
    bench_main(__doc__, run)


if __name__ == "__main__":
    main()
