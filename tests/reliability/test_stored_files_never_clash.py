"""
Two rows, or two runs, never write the same file (issue 27, item 2).

* A campaign run stores under a folder of its own (``<output_uri>/<day>/<run>``): two runs of one day, as a
  scheduled and a manual run of a Monday, keep all their videos. The dates are pinned, never today's.
* File names derived from rows keep every script's letters and never collide, on case-insensitive storage
  too (``東京``/``大阪``, ``Zürich``/``Z rich``, ``North``/``north``).
* The download operator never replaces a file that belongs to another video, nor one nothing vouches for.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heygen_provider.exceptions import HeyGenDownloadConflictError
from heygen_provider.file_names import MAX_STEM_CHARACTERS, file_stem, run_folder, unique_file_stems
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.testing.emulator import HeyGenEmulator
from tests.integration.conftest import video_posts
from tests.reliability.conftest import SCENE

# -- names derived from rows ------------------------------------------------------------------------------


def folded(name: str) -> str:
    """How a case-insensitive file system compares two names."""
    return unicodedata.normalize("NFKC", name).casefold()


@pytest.mark.parametrize(
    "labels",
    [["東京", "大阪"], ["Zürich", "Z rich"], ["North", "north"], ["São Paulo", "Sao Paulo"], ["Straße", "STRASSE"]],
    ids=repr,
)
def test_rows_that_folded_into_one_name_get_names_of_their_own(labels: list[str]) -> None:
    stems = unique_file_stems(labels)
    assert len({folded(stem) for stem in stems}) == len(labels), stems


def test_a_row_keeps_the_letters_of_its_script() -> None:
    assert unique_file_stems(["東京", "Zürich", "North West"]) == ["東京", "zürich", "north-west"]


def test_a_row_without_letters_or_digits_is_named_by_its_position() -> None:
    assert unique_file_stems(["North", "", "???", "north"]) == ["north", "row-2", "row-3", "north-2"]


def test_a_suffix_never_lands_on_a_later_rows_own_name() -> None:
    assert unique_file_stems(["North", "north", "North 2"]) == ["north", "north-2", "north-2-2"]


@given(st.lists(st.text(max_size=200), max_size=30))
def test_any_rows_give_distinct_safe_file_names(labels: list[str]) -> None:
    stems = unique_file_stems(labels)
    assert len(stems) == len(labels)
    assert len({folded(stem) for stem in stems}) == len(stems), "two rows would share a file"
    for stem in stems:
        assert stem and stem not in (".", "..")
        assert not set(stem) & {"/", "\\", "\x00"}
        assert not stem.startswith(".") and not stem.startswith("-")
        # A stem, a "-NN" suffix and ".mp4" stay within the 255 bytes a file name may have.
        assert len(stem.encode("utf-8")) <= 255 - len("-99.heygen.json.mp4") - 1


@given(st.text(max_size=400))
def test_a_file_stem_is_bounded(label: str) -> None:
    assert len(file_stem(label)) <= MAX_STEM_CHARACTERS


@given(st.text(min_size=1, max_size=120), st.text(min_size=1, max_size=120))
def test_two_runs_never_share_a_folder(first: str, second: str) -> None:
    if first == second:
        assert run_folder(first, "2026-12-07") == run_folder(second, "2026-12-07")
    else:
        assert folded(run_folder(first, "2026-12-07")) != folded(run_folder(second, "2026-12-07"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("scheduled__2026-12-07T07:00:00+00:00", "manual__2026-12-07T07:00:00+00:00"),
        ("Run-A", "run-a"),
        ("run:a", "run-a"),
        ("a/b", "a-b"),
    ],
)
def test_run_ids_that_look_alike_get_folders_of_their_own(first: str, second: str) -> None:
    assert folded(run_folder(first, "2026-12-07")) != folded(run_folder(second, "2026-12-07"))
    assert run_folder(first, "2026-12-07").startswith("2026-12-07/")
    assert "/" not in run_folder(first, "2026-12-07").removeprefix("2026-12-07/")


def test_the_campaign_example_names_its_rows_files_apart() -> None:
    from heygen_data_to_video import requests_from_rows

    figures = {"manager": "M", "revenue_eur": "1", "change_pct": "1", "top_product": "P"}
    rows = [{**figures, "region": region} for region in ("東京", "大阪", "Zürich", "Z rich", "North", "north")]
    stems = [request["file_stem"] for request in requests_from_rows(rows, avatar_id="a", voice_id="v")]
    assert len({folded(stem) for stem in stems}) == len(rows), stems


# -- two runs of one day ----------------------------------------------------------------------------------

MONDAY_MORNING = datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc)
MONDAY_EVENING = datetime(2026, 12, 7, 18, 30, tzinfo=timezone.utc)


def test_two_runs_of_one_day_keep_all_their_videos(run_dag: Any, emulator: HeyGenEmulator, tmp_path: Path) -> None:
    output = tmp_path / "videos"
    runs = [
        run_dag("heygen_data_to_video", logical_date=day, output_uri=output.as_uri())
        for day in (MONDAY_MORNING, MONDAY_EVENING)
    ]

    assert [str(run.state) for run in runs] == ["success", "success"]
    videos = list(output.rglob("*.mp4"))
    assert len(videos) == len(video_posts(emulator)) == 8, sorted(map(str, videos))
    [day] = list(output.iterdir())
    assert day.name == "2026-12-07"
    folders = sorted(path for path in day.iterdir())
    assert len(folders) == 2, "one folder per run"
    for folder in folders:
        assert sorted(path.name for path in folder.glob("*.mp4")) == ["east.mp4", "north.mp4", "south.mp4", "west.mp4"]
        assert (folder / "summary.html").is_file()


# -- the download never replaces another video's file -----------------------------------------------------


@pytest.fixture
def two_videos(heygen_connection: Any) -> list[dict[str, Any]]:
    hook = HeyGenHook()
    videos = []
    for title in ("first", "second"):
        created = hook.create_video({"video_inputs": [SCENE], "title": title})
        status = hook.get_video_status(created.video_id)
        assert status.is_success
        videos.append(status.to_result())
    return videos


def download(folder: Path, video: dict[str, Any], file_stem: str | None = "north") -> dict[str, Any]:
    operator = HeyGenDownloadVideoOperator(
        task_id="download", destination=folder.as_uri(), video_id=video["video_id"], video=video, file_stem=file_stem
    )
    return operator.execute(context={})  # type: ignore[arg-type]


def test_another_videos_file_is_never_replaced(
    two_videos: list[dict[str, Any]], heygen_emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    first, second = two_videos
    download(tmp_path, first)
    stored = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    heygen_emulator.clear_requests()

    with pytest.raises(
        HeyGenDownloadConflictError, match=rf"{first['video_id']}.*not replacing it.*file_stem"
    ) as refused:
        download(tmp_path, second)

    assert second["video_id"] in str(refused.value)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == stored, "the first video is intact"
    assert heygen_emulator.requests() == [], "refused before any byte was fetched"


def test_a_file_nothing_vouches_for_is_never_replaced(
    two_videos: list[dict[str, Any]], heygen_emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    (tmp_path / "north.mp4").write_bytes(b"a file someone put there")
    heygen_emulator.clear_requests()

    with pytest.raises(HeyGenDownloadConflictError, match="no download of this video stored"):
        download(tmp_path, two_videos[0])

    assert (tmp_path / "north.mp4").read_bytes() == b"a file someone put there"
    assert heygen_emulator.requests() == []


def test_the_same_videos_download_runs_again(two_videos: list[dict[str, Any]], tmp_path: Path) -> None:
    first = download(tmp_path, two_videos[0])
    again = download(tmp_path, two_videos[0])
    assert again["video_path"] == first["video_path"]
