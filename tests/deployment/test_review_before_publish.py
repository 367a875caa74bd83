"""
``heygen_review_before_publish`` in a real Airflow deployment (api-server, scheduler, dag-processor,
triggerer, LocalExecutor) against the emulator, a real S3-compatible server (moto's) and a real SMTP
server (aiosmtpd), all on loopback.

Two rows render; a person approves one review and rejects the other through Airflow's REST API
(``PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails``). Only the approved video is stored,
the e-mail lists it as published and the other as rejected, and each video was paid for once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
from tests.conftest import EXAMPLE_DAGS
from tests.deployment.airflow_deployment import AirflowDeployment, running_deployment, wait_until
from tests.integration.services import S3Server, SmtpServer, html_text

pytestmark = pytest.mark.deployment

DAG_ID = "heygen_review_before_publish"
BUCKET = "reviewed-videos"
AWS_CONN_ID = "review_s3"
SMTP_CONN_ID = "review_smtp"
#: Recognisable, so a leak into any file of the deployment would be found.
API_KEY = "sk-REVIEW-LEAKCHECK-2b7e41"


@pytest.fixture
def emulator() -> Iterator[HeyGenEmulator]:
    # Renders long enough that the scheduler has seen each task defer before its trigger fires: a quicker
    # resume races Airflow's own bookkeeping (a stale "success" event for the deferral sends it to retry).
    settings = EmulatorSettings(render_seconds=10.0, api_keys=(API_KEY,))
    with HeyGenEmulator(settings, in_subprocess=True) as running:
        yield running


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    client = s3_server.client()
    if BUCKET not in [item["Name"] for item in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    for key in s3_server.objects(BUCKET):
        client.delete_object(Bucket=BUCKET, Key=key)
    return BUCKET


@pytest.fixture
def deployment(
    tmp_path: Path, emulator: HeyGenEmulator, s3_server: S3Server, smtp_server: SmtpServer, bucket: str
) -> Iterator[AirflowDeployment]:
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {
        **emulator.airflow_connection().env(),
        **s3_server.connection(AWS_CONN_ID),
        **smtp_server.connection(SMTP_CONN_ID),
        "HEYGEN_POLL_INTERVAL": "1",
    }
    with running_deployment(home, EXAMPLE_DAGS, env) as airflow:
        yield airflow


def test_only_the_approved_video_is_published_and_the_rejected_one_is_reported(
    deployment: AirflowDeployment,
    emulator: HeyGenEmulator,
    s3_server: S3Server,
    smtp_server: SmtpServer,
    bucket: str,
    tmp_path: Path,
) -> None:
    rows_csv = two_rows(tmp_path / "rows.csv")
    deployment.wait_for_dag(DAG_ID)
    deployment.rest("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    conf = {
        "rows_uri": str(rows_csv),
        "output_uri": f"s3://{bucket}/reviewed",
        "output_conn_id": AWS_CONN_ID,
        "notify_to": "editors@example.com",
        "smtp_conn_id": SMTP_CONN_ID,
    }
    run = deployment.rest("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})
    runs = f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"

    # Both videos rendered, and both reviews waiting for a person.
    def pending_reviews() -> list[dict[str, Any]]:
        details = deployment.rest("GET", f"{runs}/hitlDetails")["hitl_details"]
        waiting = [
            detail
            for detail in details
            if not detail["response_received"] and detail["task_instance"]["state"] in ("awaiting_input", "deferred")
        ]
        return waiting if len(waiting) == 2 else []

    wait_until(lambda: bool(pending_reviews()), 180, "two reviews awaiting input", deployment.diagnose)
    reviews = {detail["subject"]: detail for detail in pending_reviews()}
    assert sorted(reviews) == ['Publish "Weekly figures: North"?', 'Publish "Weekly figures: South"?']
    videos = {video["title"]: video for video in emulator.videos()}
    assert sorted(videos) == ["Weekly figures: North", "Weekly figures: South"]
    for title, video in videos.items():
        body = reviews[f'Publish "{title}"?']["body"]
        # The thumbnail, shown as an image that links to the video; the video and its HeyGen page.
        assert (
            f"[![Thumbnail of {video['video_id']}]({emulator.base_url}/media/thumbnails/{video['video_id']}.jpg" in body
        )
        assert f"[Watch the video]({emulator.base_url}/media/videos/{video['video_id']}.mp4" in body
        assert f"[Open it in HeyGen]({emulator.base_url}/videos/{video['video_id']})" in body
        assert "Here is the" in body and title.split(": ")[1] in body, "the script is quoted"
    assert emulator.requests(method="POST", path="/v3/videos"), "rendered before the review"
    assert not s3_server.objects(bucket), "nothing is published before a person has answered"

    north, south = reviews['Publish "Weekly figures: North"?'], reviews['Publish "Weekly figures: South"?']
    for detail, answer in ((north, "Approve"), (south, "Reject")):
        instance = detail["task_instance"]
        # Airflow 3.3's scheduler must have seen the worker finish the run that parked the review:
        # answered sooner, a resumed task meets that late "success" event and is sent to retry (which
        # asks the reviewer again). A person is never that quick.
        parked = re.compile(
            rf"TaskInstance Finished: dag_id={DAG_ID}, task_id={re.escape(instance['task_id'])}, "
            rf"run_id={re.escape(run['dag_run_id'])}, map_index={instance['map_index']},"
            r".* state=(awaiting_input|deferred)"
        )
        wait_until(
            lambda pattern=parked: bool(pattern.search(deployment.log_since_start("scheduler"))),
            60,
            "the scheduler to record the parked review",
            deployment.diagnose,
        )
        answered = deployment.rest(
            "PATCH",
            f"{runs}/taskInstances/{instance['task_id']}/{instance['map_index']}/hitlDetails",
            {"chosen_options": [answer]},
        )
        assert answered["chosen_options"] == [answer]

    wait_until(
        lambda: deployment.rest("GET", runs)["state"] in ("success", "failed"),
        180,
        "the run to finish",
        deployment.diagnose,
    )
    states = task_states(deployment)
    assert deployment.rest("GET", runs)["state"] == "success", states
    assert states[("review_row.publish_video", north["task_instance"]["map_index"])] == "success", states
    assert states[("review_row.approved", south["task_instance"]["map_index"])] == "skipped", states
    assert states[("review_row.publish_video", south["task_instance"]["map_index"])] == "skipped", states

    # Exactly the approved video (with its thumbnail and captions) and the summary page were stored.
    objects = s3_server.objects(bucket)
    [(day, run)] = {tuple(key.split("/")[1:3]) for key in objects}
    folder = f"reviewed/{day}/{run}"
    # (The download keeps each file's ETag beside it, as a hidden ".<name>.heygen.json" object.)
    visible = sorted(key for key in objects if not key.rsplit("/", 1)[1].startswith("."))
    assert visible == [f"{folder}/north{suffix}" for suffix in (".jpg", ".mp4", ".srt")] + [f"{folder}/summary.html"], (
        objects
    )
    assert not [key for key in objects if "south" in key], objects
    assert objects[f"{folder}/north.mp4"] > 1000

    [message] = smtp_server.messages
    assert message["Subject"] == f"Reviewed videos {day}: 1 published, 1 rejected"
    assert message["To"] == "editors@example.com"
    text = html_text(message)
    lines = text.splitlines()
    [published] = [line for line in lines if line.startswith("- Weekly figures: North: published")]
    assert f"s3://{bucket}/{folder}/north.mp4" in published
    [rejected] = [line for line in lines if line.startswith("- Weekly figures: South: REJECTED")]
    assert "rejected by Anonymous: not published" in rejected
    assert videos["Weekly figures: South"]["video_id"] in rejected

    # Each video paid for once, through the wait for the reviews.
    posts = emulator.requests(method="POST", path="/v3/videos")
    assert len(posts) == 2
    assert len({post.video_id for post in posts}) == 2

    written = [path for path in deployment.home.rglob("*") if path.is_file() and path.suffix != ".db"]
    leaks = [str(path) for path in written if API_KEY.encode() in path.read_bytes()]
    assert not leaks, f"the API key leaked into {leaks}"


def two_rows(path: Path) -> Path:
    """The first two rows of the bundled sample, as a CSV of their own."""
    with (EXAMPLE_DAGS / "data" / "weekly_figures.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:2]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert [row["region"] for row in rows] == ["North", "South"]
    return path


def task_states(deployment: AirflowDeployment) -> dict[tuple[str, int], str]:
    rows = deployment.query("SELECT task_id, map_index, state FROM task_instance WHERE dag_id = :dag_id", dag_id=DAG_ID)
    return {(str(task_id), int(map_index)): str(state) for task_id, map_index, state in rows}
