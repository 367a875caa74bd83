"""
Download: a large video streamed by ``HeyGenDownloadVideoOperator`` to a local ``ObjectStoragePath``
(``file://``), against a plain ``requests`` streamed copy of the same URL to a file, in the same run.

Each download runs in a fresh worker process that measures its own throughput and its peak RSS
growth during the download (the kernel's peak mark is reset after the imports, so the figure is what
the download itself added). The variants alternate so that load from other processes hits both alike.

    .venv/bin/python bench/download_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    MIB,
    Report,
    airflow_env,
    bench_main,
    create_videos,
    peak_rss_bytes,
    print_table,
    ratio,
    reset_peak_rss,
    rss_bytes,
    run_worker,
    running_emulator,
    status_url,
    write_json,
)

VARIANTS = ("requests_copy", "operator")
BASELINE = "requests_copy"
CHUNK_SIZE = MIB
THROUGHPUT_GOAL = 0.8
MEMORY_GOAL_MIB = 50.0


# -- worker ------------------------------------------------------------------------------------------


def download_with_operator(url: str, folder: Path) -> Path:
    """The code under test: the operator's ``execute``, given the URL as the generate task's result."""
    from heygen_provider.operators.download import HeyGenDownloadVideoOperator

    operator = HeyGenDownloadVideoOperator(
        task_id="download",
        video_id="bench",
        destination=folder.as_uri(),
        video={"video_id": "bench", "video_url": url},
        include_thumbnail=False,
        include_captions=False,
        chunk_size=CHUNK_SIZE,
    )
    return Path(operator.execute(context={})["video_path"].removeprefix("file://"))


def download_with_requests(url: str, folder: Path) -> Path:
    """The baseline: a plain streamed copy, same chunk size."""
    import requests

    target = folder / "bench.mp4"
    with requests.get(url, stream=True, timeout=60) as answer, target.open("wb") as sink:
        answer.raise_for_status()
        for chunk in answer.iter_content(chunk_size=CHUNK_SIZE):
            sink.write(chunk)
    return target


def scratch_root() -> str | None:
    """
    A RAM-backed folder when there is one: the benchmark compares two ways of streaming, and disk
    write-back (shared with every other process on the machine) would only add noise to both.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 1024 * MIB:
        return str(shm)
    return None


def worker_main(arguments: argparse.Namespace) -> None:
    """
    Download twice in one process: the first ("cold") pays the per-process costs once (connection
    lookup, object-storage set-up); the second ("warm") is the streaming alone. Peak RSS growth
    covers both.
    """
    download = download_with_operator if arguments.variant == "operator" else download_with_requests
    # Modules are imported before measuring: a worker running a DAG's task has them already.
    if arguments.variant == "operator":
        from airflow.sdk import ObjectStoragePath  # noqa: F401

        import heygen_provider.hooks.heygen
        import heygen_provider.operators.download  # noqa: F401
    import requests  # noqa: F401

    rss_before = rss_bytes()
    peak_reset = reset_peak_rss()
    cold, size = timed_download(download, arguments.url)
    warm, _ = timed_download(download, arguments.url)
    result = {
        "variant": arguments.variant,
        "bytes": size,
        "cold_mib_per_s": size / MIB / cold,
        "mib_per_s": size / MIB / warm,
        "peak_growth_mib": (peak_rss_bytes() - rss_before) / MIB,
        "peak_reset": peak_reset,
    }
    write_json(arguments.out, result)


def timed_download(download: Callable[[str, Path], Path], url: str) -> tuple[float, int]:
    """Seconds and bytes of one download into a fresh folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="heygen-bench-download-", dir=scratch_root()))
    try:
        started = time.perf_counter()
        path = download(url, folder)
        return time.perf_counter() - started, path.stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- parent ------------------------------------------------------------------------------------------


def video_url(base_url: str, api_key: str, size: str) -> str:
    """Create a finished video padded to ``size`` on the emulator and return its signed URL."""
    (video_id,) = create_videos(base_url, api_key, 1, title=f"Download benchmark emulator:size={size}")
    request = urllib.request.Request(status_url(base_url, video_id), headers={"X-Api-Key": api_key})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as answer:
        url: str = json.loads(answer.read())["data"]["video_url"]
    # The emulator draws a video's media on their first fetch: one byte now keeps that out of the timings.
    with opener.open(urllib.request.Request(url, headers={"Range": "bytes=0-0"}), timeout=30) as answer:
        answer.read()
    return url


def run(quick: bool = False) -> Report:
    """Alternate the two variants over the same URL and compare their medians."""
    size = "20MB" if quick else "200MB"
    rounds = 1 if quick else 3
    samples: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    with running_emulator(render_seconds=0.0) as emulator:
        url = video_url(emulator.base_url, emulator.api_key, size)
        env = {**airflow_env(), **emulator.airflow_connection().env()}
        for round_number in range(rounds):
            print(f"  download: round {round_number + 1} of {rounds}, {size}", flush=True)
            for variant in VARIANTS:
                samples[variant].append(
                    run_worker(Path(__file__), ["--worker", "--variant", variant, "--url", url], env=env)
                )
    rows = [summarise(variant, samples[variant]) for variant in VARIANTS]
    baseline = rows[0]
    for row in rows:
        row["throughput_ratio"] = ratio(row["mib_per_s"], baseline["mib_per_s"])
        row["cold_ratio"] = ratio(row["cold_mib_per_s"], baseline["cold_mib_per_s"])
    report = Report("download", {"size": size, "rounds": rounds, "variants": rows})
    print_table(
        f"Download of a {size} video to a local folder (median of {rounds} processes; cold: 1st in process, warm: 2nd)",
        ["variant", "warm MiB/s", "x requests", "cold MiB/s", "x requests", "peak RSS growth MiB", "warm MiB/s, all"],
        [
            [
                row["variant"],
                row["mib_per_s"],
                row["throughput_ratio"],
                row["cold_mib_per_s"],
                row["cold_ratio"],
                row["peak_growth_mib"],
                ", ".join(f"{value:.0f}" for value in row["mib_per_s_all"]),
            ]
            for row in rows
        ],
    )
    operator = rows[-1]
    report.goal(
        "operator streaming throughput (warm) vs plain requests copy",
        operator["throughput_ratio"],
        f">= {THROUGHPUT_GOAL}",
        (operator["throughput_ratio"] or 0) >= THROUGHPUT_GOAL,
        f"({operator['mib_per_s']:.0f} MiB/s)",
    )
    report.goal(
        "operator peak memory growth",
        operator["peak_growth_mib"],
        f"< {MEMORY_GOAL_MIB:g} MiB",
        operator["peak_growth_mib"] < MEMORY_GOAL_MIB,
        f"(requests copy: {baseline['peak_growth_mib']:.1f} MiB)",
    )
    return report


def summarise(variant: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "variant": variant,
        "bytes": runs[0]["bytes"],
        "mib_per_s": statistics.median(run["mib_per_s"] for run in runs),
        "mib_per_s_all": [run["mib_per_s"] for run in runs],
        "cold_mib_per_s": statistics.median(run["cold_mib_per_s"] for run in runs),
        "peak_growth_mib": max(run["peak_growth_mib"] for run in runs),
        "peak_reset": all(run["peak_reset"] for run in runs),
    }


def main() -> None:
    bench_main(__doc__, run, worker_main, [("--variant", {"choices": VARIANTS}), ("--url", {})])


if __name__ == "__main__":
    main()
