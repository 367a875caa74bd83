"""
Issue 27, "Also": running the test suite never rewrites a committed file.

The distributed deployment drill wrote its figures to ``bench/results/deployment-drill.json``, the file
docs/deployment.rst quotes, so every ``make test`` left the checkout modified. A run now writes to a path
git ignores unless ``HEYGEN_DRILL_RESULTS`` names a file on purpose.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deployment import drill
from tests.deployment.airflow_deployment import REPOSITORY


def git(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPOSITORY), *arguments], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def checkout() -> None:
    if shutil.which("git") is None or git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout")


@pytest.mark.usefixtures("checkout")
def test_a_drill_run_writes_its_figures_where_git_ignores_them() -> None:
    written = drill.results_path({})
    relative = written.relative_to(REPOSITORY).as_posix()
    assert git("check-ignore", "--quiet", "--no-index", relative).returncode == 0, f"{relative} is not ignored"
    assert git("ls-files", "--error-unmatch", relative).returncode != 0, f"{relative} is committed"
    assert written != drill.COMMITTED_RESULTS


@pytest.mark.usefixtures("checkout")
def test_the_committed_figures_are_written_only_when_asked_for() -> None:
    committed = drill.COMMITTED_RESULTS.relative_to(REPOSITORY).as_posix()
    assert git("ls-files", "--error-unmatch", committed).returncode == 0, f"{committed} is no longer committed"
    assert drill.results_path({drill.RESULTS_ENV: str(drill.COMMITTED_RESULTS)}) == drill.COMMITTED_RESULTS
    assert drill.results_path({drill.RESULTS_ENV: "/tmp/elsewhere.json"}) == Path("/tmp/elsewhere.json")
