"""Where the provider's extra links lead: HeyGen, the local emulator, the stored video."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.links.heygen import (
    CampaignSummaryLink,
    StoredVideoLink,
    browsable_url,
    link_to_summary_page,
    video_page_url,
    without_connection,
)
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from tests.fixtures.scenes import emulator_scene

SCENE = emulator_scene("Hello")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.heygen.com", "https://app.heygen.com/videos/abc"),
        (None, "https://app.heygen.com/videos/abc"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/videos/abc"),
        ("http://localhost:8123/", "http://localhost:8123/videos/abc"),
        ("http://[::1]:8123", "http://[::1]:8123/videos/abc"),
        ("https://heygen-proxy.internal", "https://app.heygen.com/videos/abc"),
    ],
)
def test_the_video_page_is_heygens_unless_the_connection_is_on_loopback(base_url: str | None, expected: str) -> None:
    assert video_page_url("abc", base_url) == expected


def test_the_emulator_serves_the_page_it_is_linked_to(heygen_connection: Any, heygen_emulator: Any) -> None:
    hook = HeyGenHook()
    done = hook.create_video({"video_inputs": [SCENE], "title": "Weekly figures: North"}).video_id
    failed = hook.create_video({"video_inputs": [SCENE], "title": "Atlantis emulator:fail"}).video_id

    page = requests.get(video_page_url(done, hook.settings.base_url), timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Weekly figures: North" in page.text and "<video" in page.text
    assert f"/media/videos/{done}.mp4" in page.text
    failed_page = requests.get(video_page_url(failed, hook.settings.base_url), timeout=10).text
    assert "40119: Video is too long" in failed_page and "<video" not in failed_page
    assert requests.get(video_page_url("0" * 32, hook.settings.base_url), timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Airflow's UI opens only http(s) links: a local file gets no link rather than one that does nothing.
        ("file:///data/videos/north.mp4", ""),
        ("/data/videos/north.mp4", ""),
        ("https://cdn.example.com/north.mp4", "https://cdn.example.com/north.mp4"),
        (
            "s3://campaigns/2026-11-24/north.mp4",
            "https://s3.console.aws.amazon.com/s3/object/campaigns?prefix=2026-11-24/north.mp4",
        ),
        (
            "gs://campaigns/2026-11-24/north one.mp4",
            "https://console.cloud.google.com/storage/browser/_details/campaigns/2026-11-24/north%20one.mp4",
        ),
    ],
)
def test_stored_videos_link_to_where_a_browser_can_open_them(path: str, expected: str) -> None:
    assert browsable_url(path) == expected


def test_the_download_task_links_to_the_video_it_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.execution_time.xcom import XCom

    results = {"return_value": {"video_id": "abc", "video_path": "s3://aws_default@campaigns/north.mp4"}}
    monkeypatch.setattr(XCom, "get_value", lambda **kwargs: results.get(kwargs["key"]))
    operator = HeyGenDownloadVideoOperator(task_id="download", video_id="abc", destination="s3://campaigns")

    [link] = operator.operator_extra_links
    assert isinstance(link, StoredVideoLink)
    expected = "https://s3.console.aws.amazon.com/s3/object/campaigns?prefix=north.mp4"
    assert link.get_link(operator, ti_key=SimpleNamespace()) == expected
    results.clear()
    assert link.get_link(operator, ti_key=SimpleNamespace()) == ""


@pytest.mark.parametrize(
    ("destination", "output_uri", "linked"),
    [
        ("file:///data/videos", None, False),
        ("/data/videos/{{ ds }}", None, False),
        ("s3://campaigns/{{ ds }}", None, True),
        ("gs://campaigns", None, True),
        # A leading {{ params.NAME }} is read from the DAG's params when the DAG is parsed.
        ("{{ params.output_uri }}/{{ ds }}", "file:///tmp/heygen-videos", False),
        ("{{ params.output_uri }}/{{ ds }}", "s3://campaigns/heygen", True),
        # Anything else is known only when the task runs: the link stays, empty if it cannot open.
        ("{{ var.value.output }}/videos", None, True),
    ],
)
def test_a_download_to_a_local_folder_has_no_link(destination: str, output_uri: str | None, linked: bool) -> None:
    from airflow.sdk import DAG, Param
    from airflow.serialization import serialized_objects

    params = {"output_uri": Param(output_uri, type="string")} if output_uri else {}
    with DAG(dag_id="download_links", schedule=None, params=params) as dag:
        operator = HeyGenDownloadVideoOperator(task_id="download", video_id="abc", destination=destination)
        HeyGenDownloadVideoOperator.partial(task_id="mapped", destination=destination).expand(video_id=["a", "b"])
    assert [type(link) for link in operator.operator_extra_links] == ([StoredVideoLink] if linked else [])
    # The API server lists the links the serialized DAG names: none, and the UI shows no heading.
    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    encoded = {node["__var"]["task_id"]: node["__var"] for node in serializer.to_dict(dag)["dag"]["tasks"]}
    assert ("_operator_extra_links" in encoded["download"]) == linked
    # A mapped download keeps its link: its destination is not read before the task runs.
    assert encoded["mapped"]["_operator_extra_links"] == {"Stored video": "_link_StoredVideoLink"}


def test_a_summary_task_links_to_the_page_it_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import DAG, task
    from airflow.sdk.execution_time.xcom import XCom

    @task
    def write_summary() -> dict[str, str]:
        return {"page": "s3://aws_default@campaigns/2026-11-24/summary.html"}

    with DAG(dag_id="summary_link", schedule=None):
        summary = link_to_summary_page(write_summary())
        # Linking twice (a DAG file that wraps an already linked task) gives one link.
        link_to_summary_page(summary)
    links = summary.operator.operator_extra_links
    assert [type(link) for link in links] == [CampaignSummaryLink]

    results: dict[str, Any] = {"return_value": {"page": "s3://aws_default@campaigns/2026-11-24/summary.html"}}
    monkeypatch.setattr(XCom, "get_value", lambda **kwargs: results.get(kwargs["key"]))
    expected = "https://s3.console.aws.amazon.com/s3/object/campaigns?prefix=2026-11-24/summary.html"
    assert links[0].get_link(summary.operator, ti_key=SimpleNamespace()) == expected
    for result in (None, {"text": "no page"}, "summary.html"):
        results["return_value"] = result
        assert links[0].get_link(summary.operator, ti_key=SimpleNamespace()) == ""


def test_the_summary_link_survives_serialization() -> None:
    from airflow.sdk import DAG, task
    from airflow.serialization import serialized_objects

    @task
    def write_summary() -> dict[str, str]:
        return {"page": "file:///data/summary.html"}

    with DAG(dag_id="summary_link_serialized", schedule=None) as dag:
        link_to_summary_page(write_summary())
    # Airflow 3.3 renamed SerializedDAG to DagSerialization.
    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    [encoded] = [node["__var"] for node in serializer.to_dict(dag)["dag"]["tasks"]]
    # The API server draws the link from XCom under this key, which the worker fills when the task ends.
    assert encoded["_operator_extra_links"] == {"Campaign summary": "_link_CampaignSummaryLink"}


def test_a_summary_written_to_a_local_folder_has_no_link() -> None:
    from airflow.sdk import DAG, Param, task

    @task
    def write_summary() -> dict[str, str]:
        return {"page": "file:///data/summary.html"}

    for output_uri, links in (("file:///tmp/heygen-videos", []), ("s3://campaigns", [CampaignSummaryLink])):
        with DAG(dag_id="summary_link_local", schedule=None, params={"output_uri": Param(output_uri)}):
            summary = link_to_summary_page(write_summary(), location="{{ params.output_uri }}")
        assert [type(link) for link in summary.operator.operator_extra_links] == links


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://aws_default@campaigns/weekly/north.mp4", "s3://campaigns/weekly/north.mp4"),
        ("s3://campaigns/weekly/north.mp4", "s3://campaigns/weekly/north.mp4"),
        ("file:///data/north.mp4", "file:///data/north.mp4"),
    ],
)
def test_stored_paths_are_shown_without_the_connection_id(path: str, expected: str) -> None:
    assert without_connection(path) == expected
    assert browsable_url(path).startswith("https://s3.console") == path.startswith("s3://")
