"""
``make demo``: run the ``heygen_data_to_video`` example end to end, in one command.

Without a ``heygen_default`` connection in the environment it starts the local emulator and points the
connection at it (no key, no credits). With ``AIRFLOW_CONN_HEYGEN_DEFAULT`` set to a real HeyGen
connection it runs the very same DAG against HeyGen. Either way it leaves the MP4 files, thumbnails,
captions and ``summary.html`` in the output folder it names at the end.

Renders on HeyGen are paid: with a connection that is not on loopback it prints the estimate of what
the run would cost and renders nothing, until you confirm with ``--confirm-spend`` (or
``HEYGEN_DEMO_CONFIRM_SPEND=yes``). It then passes the estimate (plus 20 percent) as the run's
``max_cost`` unless you give ``--max-cost``.
"""

from __future__ import annotations

import argparse
import enum
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
DAG_ID = "heygen_data_to_video"
#: The environment variable that confirms paid renders, besides ``--confirm-spend``.
CONFIRM_VARIABLE = "HEYGEN_DEMO_CONFIRM_SPEND"
#: The run's max_cost over the estimate when the user confirms without a --max-cost of their own.
ESTIMATE_MARGIN = 1.2


class SpendDecision(enum.Enum):
    """What the demo may do with a connection."""

    #: The local emulator (a loopback host): nothing is paid, run as always.
    FREE = "free"
    #: A real service, and the user confirmed: render, within the budget.
    CONFIRMED = "confirmed"
    #: A real service without confirmation: show the estimate, render nothing.
    REFUSE = "refuse"


def spend_decision(settings: Any, *, confirmed: bool) -> SpendDecision:
    """
    Whether the demo may render with a connection: freely on loopback (the emulator), on any other host
    only when the user confirmed.

    :param settings: the connection's settings (anything with a ``base_url``).
    :param confirmed: ``--confirm-spend`` or :data:`CONFIRM_VARIABLE` was given.
    """
    from urllib.parse import urlsplit

    from heygen_provider.connection import is_loopback

    if is_loopback(urlsplit(settings.base_url).hostname or ""):
        return SpendDecision.FREE
    return SpendDecision.CONFIRMED if confirmed else SpendDecision.REFUSE


def confirmed_by(flag: bool, environ: Any = os.environ) -> bool:
    """``--confirm-spend``, or :data:`CONFIRM_VARIABLE` set to ``yes`` / ``1`` / ``true``."""
    return flag or str(environ.get(CONFIRM_VARIABLE, "")).strip().lower() in {"yes", "1", "true"}


def silence_third_party_deprecations() -> None:
    """
    Hide the deprecation warnings Airflow's own dependencies raise while the demo imports and parses
    DAGs (FastAPI's test client on httpx, pathspec's ``gitwildmatch``): they are not the user's to fix.
    Only these categories from these modules; the provider's own warnings still show. Call it once the
    environment is set: Airflow puts its own filters first when it is imported.
    """
    import warnings

    import airflow  # noqa: F401  (its import adds the filters these must come before)

    try:
        from starlette.exceptions import StarletteDeprecationWarning
    except ImportError:  # an older Starlette that does not warn
        pass
    else:
        warnings.filterwarnings("ignore", category=StarletteDeprecationWarning, module=r"fastapi\.testclient")
    warnings.filterwarnings(
        "ignore", category=DeprecationWarning, module=r"airflow\._shared\.module_loading\.file_discovery"
    )


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
    parser.add_argument(
        "--confirm-spend",
        action="store_true",
        help=f"render on a real (paid) HeyGen connection; or set {CONFIRM_VARIABLE}=yes",
    )
    parser.add_argument("--max-cost", type=float, help="refuse to render above this many USD (paid runs)")
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
    silence_third_party_deprecations()

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

    conf: dict[str, Any] = {
        "output_uri": arguments.output_uri or videos.as_uri(),
        "output_conn_id": arguments.output_conn_id,
    }
    if emulator is None:
        max_cost = _paid_run_budget(dag, confirmed_by(arguments.confirm_spend), arguments.max_cost)
        if max_cost is None:
            return 2
        conf["max_cost"] = max_cost

    say(f"Running {DAG_ID}: one video per row of example_dags/data/weekly_figures.csv ...")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(videos, emulator, stop), daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
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


def _paid_run_budget(dag: Any, confirmed: bool, max_cost: float | None) -> float | None:
    """
    The ``max_cost`` of a run on the connection from the environment, after printing the estimate; or
    ``None`` when the demo must not render (a real service, not confirmed). No call to HeyGen.
    """
    from heygen_provider.campaign.budget import preflight_campaign
    from heygen_provider.hooks.heygen import HeyGenHook

    decision = spend_decision(HeyGenHook().settings, confirmed=confirmed)
    if decision is SpendDecision.FREE:
        return max_cost
    # load_dag_bag put example_dags on sys.path, as a deployment does with its dags folder.
    from heygen_data_to_video import DATA_FILE, RENDER_DEFAULTS, requests_from_rows

    from heygen_provider.campaign.tasks import rows_from_csv

    params = {name: dag.params[name] for name in ("avatar_id", "voice_id")}
    requests = requests_from_rows(rows_from_csv(DATA_FILE), **params)
    estimate = preflight_campaign(requests, defaults=RENDER_DEFAULTS, check_credit=False, log=_Say())
    if decision is SpendDecision.REFUSE:
        say(
            f"Not rendering: these renders are paid. Run again with --confirm-spend (or {CONFIRM_VARIABLE}=yes) "
            "to render them; add --max-cost USD to set the budget."
        )
        return None
    budget = max_cost if max_cost is not None else round(estimate.total_cost_usd * ESTIMATE_MARGIN + 0.005, 2)
    say(f"Confirmed: rendering with max_cost ${budget:.2f}; the run checks the account's credit first.")
    return budget


class _Say:
    """A logger that prints, for the estimate's lines."""

    def info(self, message: str, *args: Any) -> None:
        say(message % args)


def _watch(videos: Path, emulator: object | None, stop: threading.Event) -> None:
    """Print a progress line whenever the renders or the stored files change (nothing before either)."""
    last: str | None = None
    count_renders: Callable[[], dict[str, int]] = (
        (lambda: {}) if emulator is None else (lambda: _render_counts(emulator))
    )
    while not stop.wait(1.0):
        stored = len(list(videos.rglob("*.mp4"))) if videos.exists() else 0
        line = progress_line(count_renders(), stored)
        if line is not None and line != last:
            say(f"  ... {line}")
            last = line


def progress_line(renders: Mapping[str, int], stored: int) -> str | None:
    """
    ``"renders: 2 pending, 2 processing"``, ``"renders: 4 completed; videos stored: 3"``; ``None`` while
    nothing has been submitted or stored yet.

    :param renders: how many renders the emulator holds in each status.
    :param stored: how many MP4 files are in the output folder.
    """
    parts = []
    if renders:
        parts.append("renders: " + ", ".join(f"{count} {status}" for status, count in sorted(renders.items())))
    if stored:
        parts.append(f"videos stored: {stored}")
    return "; ".join(parts) or None


def _render_counts(emulator: object) -> dict[str, int]:
    try:
        jobs = emulator.videos()  # type: ignore[attr-defined]
    except Exception:
        return {}
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status"))] = counts.get(str(job.get("status")), 0) + 1
    return counts


def say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
