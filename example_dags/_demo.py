"""
``make demo``: run the ``heygen_data_to_video`` example end to end, in one command.

Without a ``heygen_default`` connection in the environment it starts the local emulator and points the
connection at it (no key, no credits). With ``AIRFLOW_CONN_HEYGEN_DEFAULT`` set to a real HeyGen
connection it runs the very same DAG against HeyGen. Either way it leaves the MP4 files, thumbnails,
captions and ``summary.html`` in the output folder it names at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DAG_ID = "heygen_data_to_video"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=REPOSITORY / "demo-output", help="folder for the results")
    parser.add_argument("--render-seconds", type=float, default=3.0, help="emulated render time")
    parser.add_argument(
        "--output-uri",
        help="store the videos here instead of OUTPUT/videos, e.g. s3://bucket/heygen (needs the "
        "Amazon provider with s3fs and --output-conn-id)",
    )
    parser.add_argument("--output-conn-id", help="the Airflow connection of --output-uri, e.g. aws_default")
    arguments = parser.parse_args(argv)

    output = arguments.output.resolve()
    home = output / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    # Airflow reads its configuration when first imported: everything is set before that.
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPOSITORY / "example_dags")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ.setdefault("HEYGEN_POLL_INTERVAL", "1" if "AIRFLOW_CONN_HEYGEN_DEFAULT" not in os.environ else "30")

    emulator = None
    if "AIRFLOW_CONN_HEYGEN_DEFAULT" in os.environ:
        say("Using the heygen_default connection from AIRFLOW_CONN_HEYGEN_DEFAULT: renders are real and paid.")
    else:
        from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator

        emulator = HeyGenEmulator(EmulatorSettings(render_seconds=arguments.render_seconds)).start()
        os.environ.update(emulator.airflow_connection().env())
        say(f"Started the HeyGen emulator at {emulator.base_url} (no key, no credits).")

    videos = output / "videos"
    say("Preparing Airflow's metadata database ...")
    from airflow.utils.db import initdb

    initdb()
    from heygen_provider.testing.dagbag import load_dag_bag

    dag = load_dag_bag(str(REPOSITORY / "example_dags")).get_dag(DAG_ID)
    if dag is None:
        say(f"Could not load {DAG_ID} from example_dags/.")
        return 1

    say(f"Running {DAG_ID}: one video per row of example_dags/data/weekly_figures.csv ...")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(videos, emulator, stop), daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        conf = {"output_uri": arguments.output_uri or videos.as_uri(), "output_conn_id": arguments.output_conn_id}
        dag_run = dag.test(run_conf=conf)
    finally:
        stop.set()
        watcher.join(timeout=2)
        if emulator is not None:
            emulator.stop()

    state = str(dag_run.state)
    say(f"{DAG_ID} finished: {state} in {time.monotonic() - started:.0f} s")
    for ti in sorted(dag_run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index)):
        label = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.rendered_map_index or ti.map_index}]"
        say(f"  {label:<52} {ti.state}")
    summaries = sorted(videos.rglob("summary.html"))
    if summaries:
        say(f"Videos and summary: {summaries[-1].parent}")
        say(f"Open {summaries[-1]} in a browser.")
    elif arguments.output_uri:
        say(f"Videos and summary: {arguments.output_uri}/<date>/")
    if not arguments.output_uri:
        say(
            "To store them in a bucket: python example_dags/_demo.py --output-uri s3://BUCKET/heygen "
            "--output-conn-id aws_default (with apache-airflow-providers-amazon[s3fs] installed)."
        )
    return 0 if state == "success" else 1


def _watch(videos: Path, emulator: object | None, stop: threading.Event) -> None:
    """Print a progress line whenever the renders or the stored files change."""
    last = ""
    count_renders: Callable[[], str] = (lambda: "") if emulator is None else (lambda: _render_counts(emulator))
    while not stop.wait(1.0):
        stored = len(list(videos.rglob("*.mp4"))) if videos.exists() else 0
        line = f"{count_renders()}videos stored: {stored}"
        if line != last:
            say(f"  ... {line}")
            last = line


def _render_counts(emulator: object) -> str:
    try:
        jobs = emulator.videos()  # type: ignore[attr-defined]
    except Exception:
        return ""
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status"))] = counts.get(str(job.get("status")), 0) + 1
    return "renders: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) + "; "


def say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
