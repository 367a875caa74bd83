"""
Shared pieces of the benchmarks: the isolated Airflow environment, the emulator, process metrics,
loop-lag sampling, statistics, worker subprocesses and the PASS/MISS report.

Every benchmark runs the code under test in a fresh subprocess (a "worker") so that its CPU time,
RSS and imports are its own, and compares it with a baseline measured in the same run: the machine is
shared and noisy, so only ratios against an in-run baseline mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from heygen_provider.api_versions import API_BY_VERSION, V3, HeyGenApi

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
#: Where test runs write (``make bench-smoke``): ignored by git, so a smoke never rewrites committed figures.
TEST_RUNS_DIR = RESULTS_DIR / "test-runs"
#: A valid, minimal render request; the emulator does not check ids against its catalogue by default.
VIDEO_INPUTS = [
    {
        "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
        "voice": {"type": "text", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54", "input_text": "Hello."},
    }
]
MIB = 1024 * 1024


# -- environment -----------------------------------------------------------------------------------


def airflow_env(home: str | None = None) -> dict[str, str]:
    """
    Environment variables for a worker that imports Airflow: a throw-away ``AIRFLOW_HOME`` so no real
    installation (config, DB, logs) is touched, and no example DAGs.
    """
    home = home or tempfile.mkdtemp(prefix="heygen-bench-airflow-")
    return {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # Loopback only: a proxy from the environment must never see the emulator's traffic.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def raise_open_file_limit() -> int:
    """Raise ``RLIMIT_NOFILE`` to the hard limit (10,000 waiters may need many sockets); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


@contextmanager
def running_emulator(**settings: Any) -> Iterator[Any]:
    """A HeyGen emulator in its own process (its own core), stopped on exit."""
    from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator

    with HeyGenEmulator(EmulatorSettings(**settings), in_subprocess=True) as emulator:
        yield emulator


def create_videos(base_url: str, api_key: str, count: int, title: str = "", concurrency: int = 32) -> list[str]:
    """
    Create ``count`` videos on the emulator over plain aiohttp (fast, no Airflow) and return their ids,
    with the default API's create call and the provider's own translation of :data:`VIDEO_INPUTS`.
    """
    import aiohttp

    from heygen_provider.models import VideoGenerateRequest

    body = V3.request_body(VideoGenerateRequest.model_validate({"video_inputs": VIDEO_INPUTS, "title": title}))

    async def create_all() -> list[str]:
        ids: list[str] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector, headers={"X-Api-Key": api_key}) as session:

            async def one() -> None:
                async with session.post(base_url + V3.create_video, json=body) as answer:
                    payload = await answer.json()
                    ids.append(payload["data"]["video_id"])

            for start in range(0, count, 1000):
                await asyncio.gather(*(one() for _ in range(min(1000, count - start))))
        return ids

    return asyncio.run(create_all())


def status_url(base_url: str, video_id: str, generation: HeyGenApi = V3) -> str:
    """The URL of ``generation``'s status call for one video (v3: ``/v3/videos/{id}``)."""
    path, query = generation.status_request(video_id)
    return base_url + path + (f"?{urlencode(query)}" if query else "")


StatusCallKind = Literal["bulk", "per_video"]


def status_call_kind(path: str) -> StatusCallKind | None:
    """
    Whether a request's path (from the emulator's log) is a bulk status call, a one-video status call
    of any API generation, or neither: the paths come from :mod:`heygen_provider.api_versions`, so a
    benchmark counts what the provider really sends.
    """
    for generation in API_BY_VERSION.values():
        if path == generation.bulk_status:
            return "bulk"
    for generation in API_BY_VERSION.values():
        prefix, placeholder, suffix = generation.video_status.partition("{video_id}")
        if not placeholder:
            if path == prefix:
                return "per_video"
            continue
        middle = path[len(prefix) : len(path) - len(suffix)]
        if path.startswith(prefix) and path.endswith(suffix) and middle and "/" not in middle:
            return "per_video"
    return None


def count_status_calls(entries: Iterable[Any]) -> dict[StatusCallKind, int]:
    """Bulk and one-video status calls among logged requests (``LoggedRequest``s)."""
    counts: dict[StatusCallKind, int] = {"bulk": 0, "per_video": 0}
    for entry in entries:
        kind = status_call_kind(entry.path)
        if kind is not None:
            counts[kind] += 1
    return counts


# -- process metrics -------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User plus system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_status_kib(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


def rss_bytes() -> int:
    """Current resident set size."""
    return _proc_status_kib("VmRSS") * 1024


def peak_rss_bytes() -> int:
    """Peak resident set size since start or the last :func:`reset_peak_rss`."""
    return _proc_status_kib("VmHWM") * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS mark (Linux 4.0+), so the peak of one phase can be read alone."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def open_sockets() -> int:
    """How many sockets this process holds open."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        except OSError:
            continue
    return count


# -- statistics ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Standard deviation over mean; 0 for fewer than two values or a zero mean."""
    if len(values) < 2 or not statistics.fmean(values):
        return 0.0
    return statistics.pstdev(values) / statistics.fmean(values)


def binned_counts(timestamps: Sequence[float], start: float, seconds: float, width: float = 1.0) -> list[int]:
    """Events per ``width``-second bin of ``[start, start + seconds)`` (whole bins only)."""
    bins = [0] * max(1, int(seconds / width))
    for moment in timestamps:
        index = int((moment - start) / width)
        if 0 <= index < len(bins):
            bins[index] += 1
    return bins


def ratio(value: float, baseline: float) -> float | None:
    """``value / baseline``, or ``None`` when the baseline is zero."""
    return value / baseline if baseline else None


# -- event-loop lag --------------------------------------------------------------------------------


class LagSampler:
    """
    Measures event-loop lag: a coroutine sleeps ``period`` seconds over and over and records how late
    it wakes up. A loop blocked by CPU work (or by too many callbacks at once) wakes it late.
    """

    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            expected = time.monotonic() + self.period
            await asyncio.sleep(self.period)
            now = time.monotonic()
            self.samples.append((now, max(0.0, now - expected)))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def lateness(self, start: float, end: float) -> list[float]:
        """Lateness (seconds) of the wake-ups between ``start`` and ``end`` (monotonic)."""
        return [late for moment, late in self.samples if start <= moment < end]


# -- workers ---------------------------------------------------------------------------------------


def run_worker(
    script: Path,
    arguments: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float = 600,
    python: str = sys.executable,
) -> dict[str, Any]:
    """
    Run ``script`` in a fresh interpreter and return the JSON it writes to the file named by its
    ``--out`` option. The worker's own output (Airflow's log lines, one per trigger poll) goes to a
    log file rather than the console, as a triggerer's would.

    :param python: the interpreter, e.g. the Airflow 3.1 environment's.
    """
    with tempfile.TemporaryDirectory(prefix="heygen-bench-") as scratch:
        out = Path(scratch) / "result.json"
        log = Path(scratch) / "worker.log"
        command = [python, str(script), *arguments, "--out", str(out)]
        with log.open("w") as sink:
            completed = subprocess.run(
                command,
                env={**os.environ, **(env or {})},
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                cwd=REPO_DIR,
            )
        if completed.returncode != 0 or not out.exists():
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"worker {script.name} {' '.join(arguments)} failed ({completed.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON."""
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")


# -- reporting -------------------------------------------------------------------------------------


@dataclass
class Goal:
    """
    One of issue 8's goals and whether this run met it.

    :param may_be_zero: a value of zero is a measurement (e.g. "triggers that ended early"); otherwise
        zero means the benchmark measured nothing, which :meth:`Report.measured_nothing` reports.
    """

    benchmark: str
    name: str
    value: float | None
    target: str
    passed: bool
    detail: str = ""
    may_be_zero: bool = False

    def line(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        value = "n/a" if self.value is None else f"{self.value:.3g}"
        return f"{verdict}  {self.benchmark}: {self.name} = {value} (goal {self.target}) {self.detail}".rstrip()


@dataclass
class Report:
    """A benchmark's result: its figures (JSON-able) and its goals."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)

    def goal(
        self, name: str, value: float | None, target: str, passed: bool, detail: str = "", may_be_zero: bool = False
    ) -> None:
        self.goals.append(Goal(self.name, name, value, target, passed, detail, may_be_zero))

    def measured_nothing(self) -> list[str]:
        """
        Why this report shows that its benchmark measured nothing, empty when it measured something:
        no figure and no goal, a top-level figure that is an empty table (list or mapping), a NaN
        anywhere in the figures, or a goal whose value is missing, NaN or zero (unless the goal says
        zero is a measurement). A goal missed is not in the list: figures are noisy on a shared
        machine, a benchmark that counts nothing is broken.
        """
        problems = []
        if not self.figures and not self.goals:
            problems.append("no figures and no goals")
        for name, value in self.figures.items():
            if isinstance(value, list | dict) and not value:
                problems.append(f"figure {name!r} is empty (a table with no rows)")
        problems += [f"figure {path} is NaN" for path in _nan_paths(self.figures, "")]
        for goal in self.goals:
            if goal.value is None or not math.isfinite(goal.value):
                problems.append(f"goal {goal.name!r} has no value ({goal.value})")
            elif goal.value == 0 and not goal.may_be_zero:
                problems.append(f"goal {goal.name!r} measured zero")
        return problems

    def as_dict(self) -> dict[str, Any]:
        return {"figures": self.figures, "goals": [asdict(goal) for goal in self.goals]}

    def print_goals(self) -> None:
        for goal in self.goals:
            print(goal.line())


def _nan_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, float) and math.isnan(value):
        yield path or "(value)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nan_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nan_paths(item, f"{path}[{index}]")


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print an aligned text table."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    print(f"\n== {title}")
    print("  ".join(str(header).rjust(width) for header, width in zip(headers, widths, strict=True)))
    for row in cells:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def bench_main(
    description: str | None,
    run: Callable[[bool], Report],
    worker: Callable[[argparse.Namespace], None] | None = None,
    worker_options: Sequence[tuple[str, dict[str, Any]]] = (),
) -> None:
    """
    The command line of one benchmark script: ``[--quick] [--out FILE]`` runs it and prints its goals;
    ``--worker`` plus hidden ``worker_options`` run one measurement for the parent (:func:`run_worker`).
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter windows (smoke run)")
    parser.add_argument("--out", help="write the JSON result here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for option, settings in worker_options:
        parser.add_argument(option, help=argparse.SUPPRESS, **settings)
    arguments = parser.parse_args()
    if arguments.worker and worker is not None:
        worker(arguments)
        return
    report = run(arguments.quick)
    report.print_goals()
    if arguments.out:
        write_json(arguments.out, report.as_dict())
