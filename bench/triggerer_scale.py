"""
Triggerer scale: N concurrent ``HeyGenVideoStatusTrigger`` instances in one event loop, polling the
emulator running in another process, against bare HTTP-client baselines doing the same GET.

Variants (each in a fresh worker process, same emulator, same videos, same N and poll interval):

* ``trigger``: the provider's trigger, its ``run()`` generator rebuilt from ``serialize()`` as the
  triggerer does, with Airflow's default logging (to a file), on v3: the triggers share the loop's
  status poller, one bulk call per cohort of up to 100 videos per interval (issue 14).
* ``trigger_per_video``: the same trigger on a ``legacy`` connection, which has no bulk call: one
  status GET per video per interval, as every connection polled before issue 14.
* ``trigger_quiet``: the coalesced trigger with Airflow's log level at WARNING.
* ``aiohttp_bulk`` (the coalesced floor): one shared aiohttp session, a task per 100 ids doing one bulk
  GET per interval and handing each waiter its item; N waiters await their item, as N triggers would.
* ``aiohttp_shared`` (a, the floor): one shared pooled aiohttp session, GET and ``json.loads``.
  Like ``trigger_per_video``, the per-video baselines (a) to (d) ask legacy's status call, so that they
  and the trigger they are compared with get the same answers.
* ``httpx_shared`` (b): the same over one shared ``httpx.AsyncClient``.
* ``aiohttp_per_poll`` (c): a new aiohttp session per poll, as several official providers do.
* ``requests_threads`` (d): ``requests`` in a thread pool, one pooled session per thread.

Every waiter sleeps a random first delay in ``[0, interval)`` then polls every ``interval`` seconds,
exactly as the trigger does. Measured over a window after a warm-up: CPU seconds per poll (process
CPU / statuses delivered to waiters) and per tracked video per poll cycle (process CPU / (N x window /
interval)), RSS growth per waiter, event-loop lag (a 50 ms sampler's lateness), statuses per second
achieved against asked for (N / interval), how evenly they spread (per-second CV), and the requests
that reached the emulator in the window per video per cycle (bulk calls and per-video GETs apart).

    .venv/bin/python bench/triggerer_scale.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    LagSampler,
    Report,
    airflow_env,
    bench_main,
    binned_counts,
    coefficient_of_variation,
    count_status_calls,
    cpu_seconds,
    create_videos,
    open_sockets,
    percentile,
    print_table,
    raise_open_file_limit,
    ratio,
    rss_bytes,
    run_worker,
    running_emulator,
    write_json,
)

from heygen_provider.api_versions import LEGACY, MAX_BULK_IDS, V3

#: The generation of the per-video variants: legacy, the one without a bulk status call.
PER_VIDEO_GENERATION = LEGACY
BASELINE = "aiohttp_shared"
BULK_BASELINE = "aiohttp_bulk"
PER_VIDEO = "trigger_per_video"
BASELINES = ("aiohttp_shared", "httpx_shared", "aiohttp_per_poll", "requests_threads", BULK_BASELINE)
TRIGGER_VARIANTS = ("trigger", PER_VIDEO, "trigger_quiet")
#: The provider's shared session opens at most this many connections (heygen_provider.hooks.cache.CONNECTION_LIMIT).
POOL_LIMIT = 100
CPU_RATIO_GOAL = 1.5
LAG_P99_GOAL_MS = 100.0
STALL_GOAL_MS = 500.0
SPREAD_CV_GOAL = 0.5
KEEP_UP_GOAL = 0.95
PROFILE_VARIABLE = "HEYGEN_BENCH_PROFILE"

Poll = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    """One measurement: ``n`` waiters polling every ``interval`` s, measured for ``window`` s."""

    n: int
    interval: float
    window: float
    variants: tuple[str, ...]
    headline: bool = False

    @property
    def warmup(self) -> float:
        # One whole interval and a little: every waiter has had its first status, which wakes a
        # coalesced trigger once per wait (a status change), so the window measures the steady cycle.
        return self.interval + 1.0


def cases(quick: bool) -> list[Case]:
    """
    The runs of ``make bench`` (about 5 minutes) or of ``--quick`` (about 2 minutes on a loaded
    2-core machine, most of it the workers' imports; ``make test``'s smoke runs it): every variant
    once, the headline's N with two 2 s cycles.
    """
    everything = TRIGGER_VARIANTS + BASELINES
    coalescing = ("trigger", PER_VIDEO, BULK_BASELINE, BASELINE)
    if quick:
        return [
            Case(100, 0.25, 2.0, everything),
            Case(1000, 2.0, 4.0, coalescing, headline=True),
        ]
    return [
        # Short intervals give enough polls for a CPU/poll figure in seconds.
        Case(100, 0.25, 8.0, everything),
        Case(1000, 2.0, 8.0, everything),
        # The headline: ten times Airflow's default triggerer capacity at the default 30 s interval.
        Case(10_000, 30.0, 60.0, coalescing, headline=True),
    ]


# -- worker: one variant in its own process ----------------------------------------------------------


class PollCounter:
    """Completion times of successful polls, and failures."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors: Counter[str] = Counter()
        self.events: Counter[str] = Counter()


async def waiter(poll: Poll, video_id: str, interval: float, counter: PollCounter) -> None:
    """A baseline waiter, paced exactly like the trigger: random first delay, then every ``interval``."""
    await asyncio.sleep(random.uniform(0, interval))
    while True:
        try:
            await poll(video_id)
        except Exception as error:
            counter.errors[type(error).__name__] += 1
        else:
            counter.times.append(time.monotonic())
        await asyncio.sleep(interval)


def aiohttp_bulk_waiters(
    video_ids: list[str], interval: float, counter: PollCounter
) -> tuple[Callable[[], list[Coroutine[Any, Any, None]]], Callable[[], Awaitable[None]]]:
    """
    The floor of coalesced polling: a task per 100 ids sends one bulk GET per interval (random phase,
    as the poller's cohorts) and resolves each id's future; each of the N waiters awaits its own.
    """
    import aiohttp

    base_url, headers = connection_details()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_LIMIT), cookie_jar=aiohttp.DummyCookieJar(), headers=headers
    )
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def cohort(ids: list[str]) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        path, query = V3.bulk_status_request(ids)
        while True:
            try:
                async with session.get(base_url + path, params=query) as answer:
                    answer.raise_for_status()
                    items = json.loads(await answer.read())["data"]
            except Exception as error:
                counter.errors[type(error).__name__] += 1
            else:
                for item in items:
                    future = waiting.pop(item["video_id"], None)
                    if future is not None and not future.done():
                        future.set_result(item)
            await asyncio.sleep(interval)

    async def waiter(video_id: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            future = waiting[video_id] = loop.create_future()
            await future
            counter.times.append(time.monotonic())

    def make() -> list[Coroutine[Any, Any, None]]:
        groups = [video_ids[start : start + MAX_BULK_IDS] for start in range(0, len(video_ids), MAX_BULK_IDS)]
        return [waiter(video_id) for video_id in video_ids] + [cohort(group) for group in groups]

    return make, session.close


def aiohttp_shared_poller(base_url: str, headers: dict[str, str]) -> tuple[Poll, Callable[[], Awaitable[None]]]:
    """(a) One pooled session for every waiter, configured like the provider's."""
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_LIMIT), cookie_jar=aiohttp.DummyCookieJar(), headers=headers
    )

    async def poll(video_id: str) -> None:
        path, query = PER_VIDEO_GENERATION.status_request(video_id)
        async with session.get(base_url + path, params=query) as answer:
            answer.raise_for_status()
            json.loads(await answer.read())

    return poll, session.close


def httpx_shared_poller(base_url: str, headers: dict[str, str]) -> tuple[Poll, Callable[[], Awaitable[None]]]:
    """(b) One pooled httpx client for every waiter."""
    import httpx

    limits = httpx.Limits(max_connections=POOL_LIMIT, max_keepalive_connections=POOL_LIMIT)
    client = httpx.AsyncClient(headers=headers, limits=limits, trust_env=False)

    async def poll(video_id: str) -> None:
        path, query = PER_VIDEO_GENERATION.status_request(video_id)
        answer = await client.get(base_url + path, params=query)
        answer.raise_for_status()
        answer.json()

    return poll, client.aclose


def aiohttp_per_poll_poller(base_url: str, headers: dict[str, str]) -> tuple[Poll, Callable[[], Awaitable[None]]]:
    """(c) A new session (and connection) per poll."""
    import aiohttp

    async def poll(video_id: str) -> None:
        path, query = PER_VIDEO_GENERATION.status_request(video_id)
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(base_url + path, params=query) as answer,
        ):
            answer.raise_for_status()
            json.loads(await answer.read())

    async def close() -> None:
        return None

    return poll, close


def requests_threads_poller(base_url: str, headers: dict[str, str]) -> tuple[Poll, Callable[[], Awaitable[None]]]:
    """(d) Blocking ``requests`` calls in a thread pool, one pooled session per thread."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    pool = ThreadPoolExecutor(max_workers=32)
    local = threading.local()

    def fetch(video_id: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
            session.headers.update(headers)
        path, query = PER_VIDEO_GENERATION.status_request(video_id)
        answer = session.get(base_url + path, params=query, timeout=30)
        answer.raise_for_status()
        answer.json()

    async def poll(video_id: str) -> None:
        await asyncio.get_running_loop().run_in_executor(pool, fetch, video_id)

    async def close() -> None:
        pool.shutdown(wait=False, cancel_futures=True)

    return poll, close


POLLERS = {
    "aiohttp_shared": aiohttp_shared_poller,
    "httpx_shared": httpx_shared_poller,
    "aiohttp_per_poll": aiohttp_per_poll_poller,
    "requests_threads": requests_threads_poller,
}


def trigger_waiters(
    video_ids: list[str], interval: float, counter: PollCounter
) -> Callable[[], list[Coroutine[Any, Any, None]]]:
    """
    The code under test: each trigger's ``run()``, counting completed status calls on the way.

    Imports what the triggerer has imported before it runs a trigger (the trigger class, by its
    classpath); what the trigger imports lazily (aiohttp, the models) it imports in the loop, as in
    a triggerer, and shows up as start-up lag.
    A status counts when the provider has read it, from a bulk answer (one per video in it) or from
    the video's own GET: a status that needs no log line is read but does not wake its trigger.
    """
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger

    one, bulk = HeyGenHook.aget_video_status, HeyGenHook.aget_video_statuses

    async def counted_one(self: HeyGenHook, video_id: str) -> Any:
        try:
            status = await one(self, video_id)
        except Exception as error:
            counter.errors[type(error).__name__] += 1
            raise
        counter.times.append(time.monotonic())
        return status

    async def counted_bulk(self: HeyGenHook, video_ids: list[str]) -> Any:
        try:
            statuses = await bulk(self, video_ids)
        except Exception as error:
            counter.errors[type(error).__name__] += 1
            raise
        counter.times.extend([time.monotonic()] * len(statuses))
        return statuses

    HeyGenHook.aget_video_status = counted_one  # type: ignore[method-assign]
    HeyGenHook.aget_video_statuses = counted_bulk  # type: ignore[method-assign]
    end_time = time.time() + 3600

    async def consume(video_id: str) -> None:
        # Rebuilt from its serialized form, as the triggerer does.
        _, kwargs = HeyGenVideoStatusTrigger(video_id, poll_interval=interval, end_time=end_time).serialize()
        async for event in HeyGenVideoStatusTrigger(**kwargs).run():
            counter.events[event.payload["status"]] += 1

    return lambda: [consume(video_id) for video_id in video_ids]


def connection_details() -> tuple[str, dict[str, str]]:
    """Base URL and auth header of the ``heygen_default`` connection the parent put in the environment."""
    connection = json.loads(os.environ["AIRFLOW_CONN_HEYGEN_DEFAULT"])
    return connection["host"].rstrip("/"), {"X-Api-Key": connection["password"], "Accept": "application/json"}


async def measure(variant: str, video_ids: list[str], interval: float, warmup: float, window: float) -> dict[str, Any]:
    """Start every waiter, let them warm up, then measure one window."""
    counter = PollCounter()
    base_url, headers = connection_details()
    if variant in TRIGGER_VARIANTS:
        close: Callable[[], Awaitable[None]] | None = None
        make = trigger_waiters(video_ids, interval, counter)
    elif variant == BULK_BASELINE:
        make, close = aiohttp_bulk_waiters(video_ids, interval, counter)
    else:
        poll, close = POLLERS[variant](base_url, headers)

        def make() -> list[Coroutine[Any, Any, None]]:
            return [waiter(poll, video_id, interval, counter) for video_id in video_ids]

    sampler = LagSampler()
    sampler.start()
    await asyncio.sleep(0.2)
    rss_before = rss_bytes()
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(coroutine) for coroutine in make()]
    await asyncio.sleep(warmup)
    profiler = start_profiler()
    cpu_start, window_start, wall_start = cpu_seconds(), time.monotonic(), time.time()
    await asyncio.sleep(window)
    cpu_used, window_end, wall_end = cpu_seconds() - cpu_start, time.monotonic(), time.time()
    stop_profiler(profiler)
    rss_after, sockets = rss_bytes(), open_sockets()

    sampler.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if close is not None:
        await close()
    return summarise(
        counter,
        sampler,
        n=len(video_ids),
        interval=interval,
        span=(started, window_start, window_end),
        cpu_used=cpu_used,
        rss_growth=rss_after - rss_before,
        sockets=sockets,
    ) | {"wall_window": [wall_start, wall_end]}


def start_profiler() -> Any:
    """With ``HEYGEN_BENCH_PROFILE=<file>``, profile the measured window only (cProfile, pstats file)."""
    if not os.environ.get(PROFILE_VARIABLE):
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def stop_profiler(profiler: Any) -> None:
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ[PROFILE_VARIABLE])


def summarise(
    counter: PollCounter,
    sampler: LagSampler,
    *,
    n: int,
    interval: float,
    span: tuple[float, float, float],
    cpu_used: float,
    rss_growth: int,
    sockets: int,
) -> dict[str, Any]:
    """The figures of one window."""
    started, window_start, window_end = span
    seconds = window_end - window_start
    cycles = n * seconds / interval
    polls = [moment for moment in counter.times if window_start <= moment < window_end]
    lag = sampler.lateness(window_start, window_end)
    # Bins a tenth of the interval wide (at most 1 s) show lockstep even at short intervals.
    width = min(1.0, interval / 10)
    bins = binned_counts(polls, window_start, seconds, width)
    mean_per_bin = statistics.fmean(bins)
    return {
        "n": n,
        "interval_s": interval,
        "window_s": round(seconds, 2),
        "polls": len(polls),
        "asked_per_s": n / interval,
        "achieved_per_s": len(polls) / seconds if seconds else 0.0,
        "cpu_s": cpu_used,
        "cpu_ms_per_poll": 1000 * cpu_used / len(polls) if polls else None,
        "cpu_us_per_video_cycle": 1e6 * cpu_used / cycles if cycles else None,
        "cpu_utilisation": cpu_used / seconds if seconds else None,
        "rss_growth_mib": rss_growth / 2**20,
        "rss_kib_per_waiter": rss_growth / 1024 / n,
        "lag_p99_ms": 1000 * percentile(lag, 0.99),
        "lag_max_ms": 1000 * max(lag, default=0.0),
        "startup_lag_max_ms": 1000 * max(sampler.lateness(started, window_start), default=0.0),
        "spread_bin_s": width,
        "spread_cv": coefficient_of_variation(bins),
        # What a perfectly random spread would give: Poisson counts, CV = 1 / sqrt(mean).
        "random_spread_cv": 1 / mean_per_bin**0.5 if mean_per_bin else None,
        "peak_to_mean": max(bins) / mean_per_bin if mean_per_bin else None,
        "sockets_open": sockets,
        "errors": sum(counter.errors.values()),
        "error_types": dict(counter.errors),
        "events": dict(counter.events),
    }


def worker_main(arguments: argparse.Namespace) -> None:
    raise_open_file_limit()
    video_ids = json.loads(Path(arguments.ids).read_text())[: arguments.n]
    result = asyncio.run(measure(arguments.variant, video_ids, arguments.interval, arguments.warmup, arguments.window))
    result["variant"] = arguments.variant
    write_json(arguments.out, result)


# -- parent: the emulator, the runs, the report ------------------------------------------------------


def run(quick: bool = False) -> Report:
    """Run every case against one emulator process and report ratios against baseline (a)."""
    plan = cases(quick)
    report = Report("triggerer")
    runs: list[dict[str, Any]] = []
    # Renders take an hour, so every video stays processing while it is polled; a render slot for each
    # (v3 refuses a create beyond the account's slots).
    videos = max(case.n for case in plan)
    with running_emulator(render_seconds=3600.0, concurrent_renders=videos, request_log_limit=100_000) as emulator:
        video_ids = create_videos(emulator.base_url, emulator.api_key, videos)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ids_file:
            json.dump(video_ids, ids_file)
        env = {**airflow_env(), **emulator.airflow_connection().env()}
        for case in plan:
            for variant in case.variants:
                runs.append(run_variant(emulator, case, variant, ids_file.name, env))
        os.unlink(ids_file.name)
    add_ratios(runs)
    report.figures = {"runs": runs, "baseline": BASELINE}
    print_runs(runs)
    judge(report, plan, runs)
    return report


def run_variant(emulator: Any, case: Case, variant: str, ids_path: str, env: dict[str, str]) -> dict[str, Any]:
    """One worker process; the emulator's request log counts what actually reached the server."""
    emulator.clear_requests()
    worker_env = dict(env)
    if variant == "trigger_quiet":
        worker_env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    if variant == PER_VIDEO:
        worker_env.update(emulator.airflow_connection(api_version=PER_VIDEO_GENERATION.name).env())
    arguments = ["--worker", "--variant", variant, "--n", str(case.n), "--interval", str(case.interval)]
    arguments += ["--warmup", str(case.warmup), "--window", str(case.window), "--ids", ids_path]
    print(f"  triggerer: {variant} N={case.n} interval={case.interval:g}s window={case.window:g}s", flush=True)
    result = run_worker(Path(__file__), arguments, env=worker_env, timeout=case.window + 300)
    requests = emulator.requests(method="GET")
    result["server_requests"] = sum(count_status_calls(requests).values())
    result.update(window_requests(requests, result.pop("wall_window"), case))
    result["headline"] = case.headline
    return result


def window_requests(requests: list[Any], window: list[float], case: Case) -> dict[str, Any]:
    """Status requests that reached the emulator in the measured window, per video per poll cycle."""
    start, end = window
    inside = [entry for entry in requests if start <= entry.timestamp < end]
    counts = count_status_calls(inside)
    cycles = case.n * (end - start) / case.interval
    return {
        "bulk_calls": counts["bulk"],
        "per_video_gets": counts["per_video"],
        "requests_per_video_cycle": (counts["bulk"] + counts["per_video"]) / cycles,
    }


def add_ratios(runs: list[dict[str, Any]]) -> None:
    """
    CPU per poll of each run over baseline (a)'s at the same N and interval; CPU per tracked video per
    cycle over the per-video trigger's and over the bare bulk loop's.
    """

    def by_case(variant: str, figure: str) -> dict[tuple[int, float], float]:
        return {(run["n"], run["interval_s"]): run[figure] or 0.0 for run in runs if run["variant"] == variant}

    floors = by_case(BASELINE, "cpu_ms_per_poll")
    per_video = by_case(PER_VIDEO, "cpu_us_per_video_cycle")
    bulk = by_case(BULK_BASELINE, "cpu_us_per_video_cycle")
    for run in runs:
        key = (run["n"], run["interval_s"])
        run["cpu_ratio_vs_a"] = ratio(run["cpu_ms_per_poll"] or 0.0, floors.get(key, 0.0))
        run["cpu_per_video_vs_per_video_trigger"] = ratio(run["cpu_us_per_video_cycle"] or 0.0, per_video.get(key, 0.0))
        run["cpu_per_video_vs_bulk_floor"] = ratio(run["cpu_us_per_video_cycle"] or 0.0, bulk.get(key, 0.0))


def print_runs(runs: list[dict[str, Any]]) -> None:
    headers = ["variant", "N", "interval", "asked/s", "got/s", "CPU ms/poll", "x (a)", "us/video/cycle"]
    headers += ["x per-video", "x bulk", "req/video/cycle", "KiB/waiter"]
    headers += ["lag p99 ms", "lag max ms", "start lag ms", "spread CV", "random CV", "peak/mean", "sockets", "errors"]
    rows = [
        [
            run["variant"],
            run["n"],
            run["interval_s"],
            run["asked_per_s"],
            run["achieved_per_s"],
            run["cpu_ms_per_poll"],
            run["cpu_ratio_vs_a"],
            run["cpu_us_per_video_cycle"],
            run["cpu_per_video_vs_per_video_trigger"],
            run["cpu_per_video_vs_bulk_floor"],
            run["requests_per_video_cycle"],
            run["rss_kib_per_waiter"],
            run["lag_p99_ms"],
            run["lag_max_ms"],
            run["startup_lag_max_ms"],
            run["spread_cv"],
            run["random_spread_cv"],
            run["peak_to_mean"],
            run["sockets_open"],
            run["errors"],
        ]
        for run in runs
    ]
    print_table("Triggerer scale (ratios against (a) aiohttp_shared at the same N and interval)", headers, rows)


def judge(report: Report, plan: list[Case], runs: list[dict[str, Any]]) -> None:
    """Issue 8's goals for the per-video trigger, issue 14's for the coalesced one."""
    per_video = [run for run in runs if run["variant"] == PER_VIDEO]
    cpu_case = max((run for run in per_video if not run["headline"]), key=lambda run: run["n"], default=None)
    for run in [cpu_case] if cpu_case else []:
        value = run["cpu_ratio_vs_a"]
        report.goal(
            f"per-video trigger CPU/poll vs bare aiohttp at N={run['n']}",
            value,
            f"<= {CPU_RATIO_GOAL}x",
            value is not None and value <= CPU_RATIO_GOAL,
            f"({run['cpu_ms_per_poll']:.3f} ms/poll)",
        )
    triggers = [run for run in runs if run["variant"] == "trigger"]
    for run in triggers:
        # ceil(N / 100) bulk calls per cycle; no render ends in the window, so no single fetch.
        expected = -(-run["n"] // MAX_BULK_IDS) / run["n"]
        report.goal(
            f"requests per video per cycle, coalesced, N={run['n']:,}",
            run["requests_per_video_cycle"],
            f"<= {expected:.3g} (+10% for the window's edges)",
            run["requests_per_video_cycle"] <= 1.1 * expected,
            f"({run['bulk_calls']} bulk calls, {run['per_video_gets']} per-video GETs)",
        )
    headline = next((run for run in triggers if run["headline"]), None)
    if headline is None:
        return
    label = f"N={headline['n']:,} at {headline['interval_s']:g} s"
    value = headline["cpu_per_video_vs_bulk_floor"]
    report.goal(
        f"CPU per video per cycle vs bare bulk aiohttp loop, {label}",
        value,
        f"<= {CPU_RATIO_GOAL}x",
        value is not None and value <= CPU_RATIO_GOAL,
        f"({headline['cpu_us_per_video_cycle']:.1f} us; "
        f"{headline['cpu_per_video_vs_per_video_trigger'] or 0:.3f}x the per-video trigger's)",
    )
    report.goal(
        f"loop lag p99, {label}",
        headline["lag_p99_ms"],
        f"< {LAG_P99_GOAL_MS:g} ms",
        headline["lag_p99_ms"] < LAG_P99_GOAL_MS,
    )
    report.goal(
        f"longest stall, {label}",
        headline["lag_max_ms"],
        f"< {STALL_GOAL_MS:g} ms",
        headline["lag_max_ms"] < STALL_GOAL_MS,
    )
    keep_up = headline["achieved_per_s"] / headline["asked_per_s"]
    report.goal(f"statuses/s achieved/asked, {label}", keep_up, f">= {KEEP_UP_GOAL}", keep_up >= KEEP_UP_GOAL)
    report.goal(
        f"sockets open, {label}",
        headline["sockets_open"],
        f"<= {POOL_LIMIT + 5}",
        headline["sockets_open"] <= POOL_LIMIT + 5,
        "(pooled connector, limit 100)",
    )
    report.goal(
        f"no trigger ended early, {label}",
        sum(headline["events"].values()),
        "0",
        not headline["events"] and headline["errors"] == 0,
        may_be_zero=True,
    )
    alone = next((run for run in per_video if run["headline"]), None)
    if alone is not None:
        report.goal(
            f"per-second poll CV of per-video polling (spread, not lockstep), {label}",
            alone["spread_cv"],
            f"< {SPREAD_CV_GOAL}",
            alone["spread_cv"] < SPREAD_CV_GOAL,
            f"(random spread: {alone['random_spread_cv']:.3f}, peak/mean {alone['peak_to_mean']:.2f})",
        )


def main() -> None:
    options = [
        ("--variant", {"choices": TRIGGER_VARIANTS + BASELINES}),
        ("--n", {"type": int}),
        ("--interval", {"type": float}),
        ("--warmup", {"type": float}),
        ("--window", {"type": float}),
        ("--ids", {}),
    ]
    bench_main(__doc__, run, worker_main, options)


if __name__ == "__main__":
    main()
