"""
API calls per video on the default API (v3): one POST and about render time / poll interval status
GETs, counted from the emulator's request log, for a range of poll intervals.

A worker process runs the real path of ``HeyGenGenerateVideoOperator`` for each interval: ``execute``
(validate, submit, check the status once, defer), the deferred ``HeyGenVideoStatusTrigger.run()``
(all intervals at once in one event loop, as in a triggerer) and ``execute_complete``. The parent
then reads the emulator's log per video id, with the paths of :mod:`heygen_provider.api_versions`:
``POST /v3/videos``, the bulk status calls that asked about the video (``GET /v3/videos/statuses``,
one cohort per interval) and its own status calls (``GET /v3/videos/{id}``: the check in ``execute``
and the fetch of the finished video, whose URL the bulk answer does not carry). Expected GETs: those
two plus about render time / interval polls (the first poll comes after a random delay in
``[0, interval)``, so one more or less is normal).

    .venv/bin/python bench/api_calls_per_video.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import math
from pathlib import Path
from typing import Any

from _common import (
    VIDEO_INPUTS,
    Report,
    airflow_env,
    bench_main,
    count_status_calls,
    print_table,
    run_worker,
    running_emulator,
    write_json,
)

from heygen_provider.api_versions import V3

#: GETs of the video's own, besides the polls: the status check in ``execute``, the fetch of the finished video.
OWN_GETS = 2
#: Extra GETs allowed over render / interval and the video's own: the poll that sees the render end.
SLACK_GETS = 1


class _TaskInstance:
    """What the operator reads from ``context["ti"]`` outside a real task run."""

    dag_id = "bench_api_calls"
    run_id = "bench"
    map_index = -1
    start_date = None

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class _StateStore(dict[str, Any]):
    """Airflow 3.3's task state store, in memory (``get``/``set``)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


def defer_all(intervals: list[float], render_seconds: float) -> list[tuple[Any, dict[str, Any], Any]]:
    """Run each operator's ``execute`` up to its deferral; return (operator, context, trigger)."""
    from airflow.sdk.exceptions import TaskDeferred

    from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

    deferred = []
    for number, interval in enumerate(intervals):
        operator = HeyGenGenerateVideoOperator(
            task_id=f"generate_{number}",
            video_inputs=VIDEO_INPUTS,
            title=f"API calls benchmark emulator:render-seconds={render_seconds:g}",
            poll_interval=interval,
            deferrable=True,
        )
        context: dict[str, Any] = {"ti": _TaskInstance(operator.task_id), "task_state_store": _StateStore()}
        try:
            operator.execute(context)
        except TaskDeferred as deferral:
            deferred.append((operator, context, deferral.trigger))
        else:
            raise RuntimeError(f"{operator.task_id} finished without deferring")
    return deferred


async def first_events(triggers: list[Any]) -> list[dict[str, Any]]:
    """Every trigger's single event, the triggers running side by side in one loop."""

    async def first(trigger: Any) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload  # type: ignore[no-any-return]
        raise RuntimeError("the trigger ended without an event")

    return list(await asyncio.gather(*(first(trigger) for trigger in triggers)))


def worker_main(arguments: argparse.Namespace) -> None:
    intervals = [float(value) for value in arguments.intervals.split(",")]
    deferred = defer_all(intervals, arguments.render_seconds)
    events = asyncio.run(first_events([trigger for _, _, trigger in deferred]))
    videos = []
    for interval, (operator, context, _), event in zip(intervals, deferred, events, strict=True):
        result = operator.execute_complete(context, event)
        videos.append(
            {
                "interval_s": interval,
                "video_id": context["ti"].xcom["video_id"],
                "status": event["status"],
                "has_video_url": bool(result and result.get("video_url")),
            }
        )
    write_json(arguments.out, {"videos": videos})


# -- parent ------------------------------------------------------------------------------------------


def run(quick: bool = False) -> Report:
    """Count each video's calls in the emulator's request log."""
    render_seconds = 2.0 if quick else 6.0
    intervals = [0.5, 1.0] if quick else [0.5, 1.0, 2.0, 3.0]
    # "scale" has six render slots, so no create is refused for want of one (v3 answers 429 beyond them).
    with running_emulator(plan="scale", render_seconds=render_seconds) as emulator:
        env = {**airflow_env(), **emulator.airflow_connection().env()}
        arguments = ["--worker", "--render-seconds", str(render_seconds), "--intervals", ",".join(map(str, intervals))]
        print(f"  api calls: render {render_seconds:g} s, intervals {intervals}", flush=True)
        videos = run_worker(Path(__file__), arguments, env=env)["videos"]
        for video in videos:
            video["posts"] = len(emulator.requests(method="POST", path=V3.create_video, video_id=video["video_id"]))
            status_calls = count_status_calls(emulator.requests(method="GET", video_id=video["video_id"]))
            video["bulk_gets"] = status_calls["bulk"]
            video["own_gets"] = status_calls["per_video"]
            video["gets"] = video["bulk_gets"] + video["own_gets"]
            video["expected_gets"] = OWN_GETS + render_seconds / video["interval_s"]
            video["max_gets"] = math.ceil(render_seconds / video["interval_s"]) + OWN_GETS + SLACK_GETS
    report = Report("api_calls", {"api_version": V3.name, "render_seconds": render_seconds, "videos": videos})
    print_table(
        f"API calls per video on {V3.name} (render {render_seconds:g} s; expected GETs = {OWN_GETS} of the video's"
        " own (check in execute, fetch when done) + render / interval bulk polls)",
        ["poll interval s", "POSTs", "GETs", "bulk", "own", "expected GETs", "x expected", "event"],
        [
            [
                video["interval_s"],
                video["posts"],
                video["gets"],
                video["bulk_gets"],
                video["own_gets"],
                video["expected_gets"],
                video["gets"] / video["expected_gets"],
                video["status"],
            ]
            for video in videos
        ],
    )
    for video in videos:
        interval = f"{video['interval_s']:g} s polls"
        report.goal(f"POSTs at {interval}", video["posts"], "1 (nothing paid twice)", video["posts"] == 1)
        report.goal(
            f"status GETs at {interval}",
            video["gets"],
            f"<= {video['max_gets']}, success",
            video["gets"] <= video["max_gets"] and video["status"] == "success",
            f"({video['bulk_gets']} bulk, {video['own_gets']} own)",
        )
    return report


def main() -> None:
    bench_main(__doc__, run, worker_main, [("--render-seconds", {"type": float}), ("--intervals", {})])


if __name__ == "__main__":
    main()
