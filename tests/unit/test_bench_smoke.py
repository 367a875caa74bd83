"""
Issue 28, item 6: benchmarks that cannot rot.

``make test`` runs ``bench/run_all.py --smoke`` (the quick sizes, checked). It fails when a benchmark
crashes or measures nothing (the API-calls benchmark counted 0 POSTs and 0 GETs for months, because it
counted legacy paths while the provider sent v3's), never because a noisy figure missed its goal. These
tests run the smoke on tiny fake benchmarks; the counting of status calls is checked against the paths
the provider's API generations really use.
"""

from __future__ import annotations

import importlib
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from heygen_provider.api_versions import LEGACY, V3

REPOSITORY = Path(__file__).resolve().parents[2]
BENCH_DIR = REPOSITORY / "bench"


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    """``bench/run_all.py`` and ``bench/_common.py``, imported as the scripts import each other."""
    sys.path.insert(0, str(BENCH_DIR))
    try:
        yield importlib.import_module("run_all"), importlib.import_module("_common")
    finally:
        sys.path.remove(str(BENCH_DIR))


def fake(
    common: ModuleType, make_report: Callable[[Any], Any], seen: list[bool] | None = None
) -> Callable[[bool], Any]:
    """A benchmark that returns ``make_report(Report)`` at once, noting the ``quick`` it was given."""

    def run(quick: bool) -> Any:
        if seen is not None:
            seen.append(quick)
        return make_report(common.Report)

    return run


def measured(report_class: Any) -> Any:
    report = report_class("measured", {"videos": [{"posts": 1, "gets": 5}]})
    report.goal("status GETs", 5, "<= 5", True)
    return report


def missed_its_goal(report_class: Any) -> Any:
    report = report_class("noisy", {"runs": [{"cpu_ratio": 3.2}]})
    report.goal("CPU ratio", 3.2, "<= 1.5x", False)
    report.goal("no trigger ended early", 0, "0", True, may_be_zero=True)
    return report


def with_goal(name: str, value: float | None) -> Callable[[Any], Any]:
    def make(report_class: Any) -> Any:
        report = report_class("fake", {"rows": [1]})
        report.goal(name, value, "1", False)
        return report

    return make


NOTHING_MEASURED = {
    "no figures and no goals": lambda report_class: report_class("empty"),
    "a table with no rows": lambda report_class: report_class("no_rows", {"videos": []}),
    "a goal that counted zero": with_goal("POSTs", 0),
    "a goal without a value": with_goal("throughput ratio", None),
    "a goal that is NaN": with_goal("lag p99", math.nan),
    "a NaN among the figures": lambda report_class: report_class("nan", {"runs": [{"cpu_ms_per_poll": math.nan}]}),
}


def smoke(run_all: ModuleType, tmp_path: Path, benchmarks: dict[str, Callable[[bool], Any]]) -> tuple[int, Any]:
    output = tmp_path / "smoke.json"
    status = run_all.main(["--smoke", "--output", str(output)], benchmarks=benchmarks)
    return status, json.loads(output.read_text())


@pytest.mark.parametrize("case", NOTHING_MEASURED)
def test_a_benchmark_that_measures_nothing_fails_the_smoke(
    bench: tuple[ModuleType, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    run_all, common = bench
    benchmarks = {"good": fake(common, measured), "broken": fake(common, NOTHING_MEASURED[case])}
    status, results = smoke(run_all, tmp_path, benchmarks)

    assert status == 1
    assert "MEASURED NOTHING  broken:" in capsys.readouterr().out
    assert set(results["benchmarks"]) == {"good", "broken"}


def test_a_goal_missed_is_not_a_smoke_failure(bench: tuple[ModuleType, ModuleType], tmp_path: Path) -> None:
    run_all, common = bench
    seen: list[bool] = []
    benchmarks = {"good": fake(common, measured, seen), "noisy": fake(common, missed_its_goal, seen)}
    status, results = smoke(run_all, tmp_path, benchmarks)

    assert status == 0
    assert seen == [True, True], "the smoke runs the quick sizes"
    assert [goal["passed"] for goal in results["benchmarks"]["noisy"]["goals"]] == [False, True]


def test_a_crash_fails_the_smoke_and_the_others_still_run(
    bench: tuple[ModuleType, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_all, common = bench

    def crashes(report_class: Any) -> Any:
        raise ImportError("cannot import name 'STATUS_PATH' from '_common'")

    status, results = smoke(run_all, tmp_path, {"crashes": fake(common, crashes), "good": fake(common, measured)})

    assert status == 1
    assert "STATUS_PATH" in results["benchmarks"]["crashes"]["error"]
    assert results["benchmarks"]["good"]["goals"]
    assert "CRASHED  crashes: ImportError" in capsys.readouterr().out


def test_a_full_run_reports_an_empty_benchmark_but_fails_only_when_strict(
    bench: tuple[ModuleType, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_all, common = bench
    benchmarks = {"empty": fake(common, NOTHING_MEASURED["a table with no rows"])}
    output = str(tmp_path / "results.json")

    assert run_all.main(["--no-plot", "--output", output], benchmarks=benchmarks) == 0
    assert "MEASURED NOTHING  empty: figure 'videos' is empty" in capsys.readouterr().out
    assert run_all.main(["--no-plot", "--strict", "--output", output], benchmarks=benchmarks) == 1


def test_the_smoke_is_quick_draws_no_plot_and_writes_where_git_ignores(bench: tuple[ModuleType, ModuleType]) -> None:
    run_all, common = bench
    arguments = run_all.parse_arguments(["--smoke"])
    written = run_all.default_output(arguments)

    assert arguments.quick and arguments.no_plot
    assert written.parent == common.TEST_RUNS_DIR
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    relative = written.relative_to(REPOSITORY).as_posix()
    check = subprocess.run(
        ["git", "-C", str(REPOSITORY), "check-ignore", "--quiet", "--no-index", relative], check=False
    )
    assert check.returncode == 0, f"{relative} is not ignored by git"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (V3.bulk_status, "bulk"),
        (V3.status_request("0123456789abcdef")[0], "per_video"),
        (LEGACY.status_request("0123456789abcdef")[0], "per_video"),
        (V3.create_video, None),
        (LEGACY.create_video, None),
        (V3.avatars, None),
        ("/v3/videos/0123456789abcdef/extra", None),
    ],
)
def test_status_calls_are_counted_on_the_paths_the_provider_sends(
    bench: tuple[ModuleType, ModuleType], path: str, kind: str | None
) -> None:
    _, common = bench

    assert common.status_call_kind(path) == kind
