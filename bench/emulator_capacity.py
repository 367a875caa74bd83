"""Capacity of the HeyGen emulator: status requests per second, against a bare aiohttp.web handler.

The triggerer benchmark needs the emulator to sustain at least 5,000 status requests a second on a
2-core machine. This script starts the emulator in its own process, creates videos (most still
rendering, some completed so that URL signing is part of the cost), and drives the default API's
one-video status call (v3: ``GET /v3/videos/{id}``) with one aiohttp client over keep-alive
connections for a bounded time and request count. In the same run it measures a bare handler on the
emulator's own aiohttp.web server set-up, answering a fixed status body: the ceiling of aiohttp.web
and this client on this machine, so the ratio is the cost of the emulator's own work. It prints the
ratio.

    .venv/bin/python bench/emulator_capacity.py [--seconds 4] [--rounds 2] [--connections 32]

Exit status 1 when the emulator stays under ``--target`` requests a second.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp
from _common import Report, create_videos, status_url

from heygen_provider.api_versions import V3
from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator

# The ceiling: the same server set-up as the emulator's (heygen_provider.testing.emulator.webserver),
# with a handler that reads nothing and answers a fixed, pre-encoded status body.
BASELINE_SERVER = r"""
import asyncio, sys
from aiohttp import web
from heygen_provider.testing.emulator.webserver import WebServer
BODY = (b'{"data":{"id":"0123456789abcdef0123456789abcdef","title":null,"status":"processing",'
        b'"video_url":null,"captioned_video_url":null,"subtitle_url":null,"thumbnail_url":null,"gif_url":null,'
        b'"video_page_url":null,"duration":null,"created_at":1765000000,"completed_at":null,"failure_code":null,'
        b'"failure_message":null,"folder_id":null,"output_language":null}}')
HEADERS = {"Content-Type": "application/json"}
async def status(request):
    return web.Response(body=BODY, headers=HEADERS)
async def main():
    server = WebServer(status)
    await server.start("127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
asyncio.run(main())
"""


@dataclass
class Measurement:
    """The outcome of one load run, with the CPU time the server process used meanwhile."""

    requests: int
    errors: int
    seconds: float
    server_cpu_seconds: float = 0.0

    @property
    def server_microseconds_per_request(self) -> float:
        return self.server_cpu_seconds / self.requests * 1e6 if self.requests else 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux /proc), 0 where unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_run(pid: int, urls: list[str], api_key: str, arguments: argparse.Namespace) -> Measurement:
    """One load run against the server process ``pid``."""
    before = cpu_seconds(pid)
    run = asyncio.run(drive(urls, api_key, arguments.seconds, arguments.connections, arguments.max_requests))
    run.server_cpu_seconds = cpu_seconds(pid) - before
    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def drive(urls: list[str], api_key: str, seconds: float, connections: int, max_requests: int) -> Measurement:
    """Poll ``urls`` round-robin from ``connections`` concurrent keep-alive connections."""
    counter = itertools.count()
    stop_at = time.monotonic() + seconds
    done = errors = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers={"X-Api-Key": api_key}) as session:

        async def worker() -> None:
            nonlocal done, errors
            while time.monotonic() < stop_at:
                number = next(counter)
                if number >= max_requests:
                    return
                async with session.get(urls[number % len(urls)]) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return Measurement(done, errors, time.monotonic() - started)


class BaselineServer:
    """The bare aiohttp.web handler in its own process, like the emulator."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(self.port)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the baseline server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def prepare_emulator(emulator: HeyGenEmulator, arguments: argparse.Namespace) -> list[str]:
    """Create the videos to poll and answer their status URLs."""
    completed = round(arguments.videos * arguments.completed_fraction)
    video_ids = create_videos(emulator.base_url, emulator.api_key, completed)
    # The rest stay in processing for the whole run, like most of the renders a triggerer polls.
    emulator.update_settings(render_seconds=3600.0)
    video_ids += create_videos(emulator.base_url, emulator.api_key, arguments.videos - completed)
    return [status_url(emulator.base_url, video_id) for video_id in video_ids]


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each load run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of baseline and emulator")
    parser.add_argument("--max-requests", type=int, default=150_000, help="cap on requests per run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--videos", type=int, default=200, help="videos polled round-robin")
    parser.add_argument("--completed-fraction", type=float, default=0.2, help="share of completed videos")
    parser.add_argument("--target", type=float, default=5000.0, help="requests a second to pass")
    return parser.parse_args(argv)


def measure(arguments: argparse.Namespace) -> tuple[list[Measurement], list[Measurement]]:
    """Alternating load runs against the baseline server and the emulator: (baseline runs, emulator runs)."""
    baseline_runs: list[Measurement] = []
    emulator_runs: list[Measurement] = []
    baseline_server = BaselineServer()
    # A render slot for every video: most of them stay processing for the whole run.
    settings = EmulatorSettings(render_seconds=0.0, request_log_limit=10_000, concurrent_renders=arguments.videos)
    try:
        with HeyGenEmulator(settings, in_subprocess=True) as emulator_process:
            emulator_urls = prepare_emulator(emulator_process, arguments)
            baseline_urls = [status_url(f"http://127.0.0.1:{baseline_server.port}", "0123456789abcdef0123456789abcdef")]
            # Alternate the two so that load from other processes on the machine hits both alike.
            emulator_pid = emulator_process.pid
            assert emulator_pid is not None
            for _ in range(arguments.rounds):
                baseline_runs.append(measured_run(baseline_server.process.pid, baseline_urls, "unused", arguments))
                emulator_runs.append(measured_run(emulator_pid, emulator_urls, emulator_process.api_key, arguments))
    finally:
        baseline_server.stop()
    return baseline_runs, emulator_runs


def run(quick: bool) -> Report:
    """The capacity benchmark as part of ``bench/run_all.py``."""
    arguments = parse_arguments(["--seconds", "2", "--rounds", "1"] if quick else [])
    baseline_runs, emulator_runs = measure(arguments)
    baseline = max(baseline_runs, key=lambda run: run.per_second)
    emulator = max(emulator_runs, key=lambda run: run.per_second)
    report = Report("emulator")
    report.figures = {
        "baseline_requests_per_second": round(baseline.per_second),
        "emulator_requests_per_second": round(emulator.per_second),
        "ratio_to_baseline": round(emulator.per_second / baseline.per_second, 3) if baseline.per_second else None,
        "emulator_server_microseconds_per_request": round(
            min(run.server_microseconds_per_request for run in emulator_runs), 1
        ),
        "errors": sum(run.errors for run in emulator_runs),
    }
    print(
        f"emulator status GETs: {emulator.per_second:,.0f} req/s; bare aiohttp.web baseline {baseline.per_second:,.0f}"
        f" req/s (ratio {report.figures['ratio_to_baseline']})"
    )
    report.goal(
        "status requests per second",
        round(emulator.per_second),
        f">= {arguments.target:,.0f}",
        emulator.per_second >= arguments.target and report.figures["errors"] == 0,
    )
    return report


def main() -> int:
    arguments = parse_arguments()
    baseline_runs, emulator_runs = measure(arguments)
    baseline = max(baseline_runs, key=lambda run: run.per_second)
    emulator = max(emulator_runs, key=lambda run: run.per_second)
    ratio = emulator.per_second / baseline.per_second if baseline.per_second else 0.0
    print(
        f"connections: {arguments.connections}, {arguments.rounds} rounds of {arguments.seconds:g} s each;"
        " best run shown"
    )
    print("all runs, baseline: " + ", ".join(f"{run.per_second:,.0f}" for run in baseline_runs))
    print("all runs, emulator: " + ", ".join(f"{run.per_second:,.0f}" for run in emulator_runs))
    print(
        f"baseline (bare aiohttp.web handler, fixed body): {baseline.per_second:,.0f} req/s"
        f" ({baseline.requests} requests)"
    )
    print(
        f"emulator GET {V3.video_status}: {emulator.per_second:,.0f} req/s "
        f"({emulator.requests} requests, {emulator.errors} errors, "
        f"{arguments.completed_fraction:.0%} of polls on completed videos)"
    )
    print(f"ratio emulator/baseline: {ratio:.2f}")
    # On 2 cores the client, not the server, is usually the limit: the server's own CPU cost per
    # request shows how much headroom it has whatever else the machine is doing.
    for name, runs in (("baseline", baseline_runs), ("emulator", emulator_runs)):
        cost = min(run.server_microseconds_per_request for run in runs)
        capacity = f"{1e6 / cost:,.0f}" if cost else "n/a"
        print(f"{name} server CPU per request: {cost:.1f} us (one core would serve about {capacity} req/s)")
    errors = sum(run.errors for run in emulator_runs)
    passed = emulator.per_second >= arguments.target and errors == 0
    print(f"target {arguments.target:,.0f} req/s: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
