"""OpenLineage names of stored files (the download operator's lineage runs in tests/integration)."""

from __future__ import annotations

import pytest

from heygen_provider.lineage import dataset_name


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("file:///data/videos/north.mp4", ("file", "/data/videos/north.mp4")),
        ("/data/videos/north.mp4", ("file", "/data/videos/north.mp4")),
        ("file://nas/videos/north.mp4", ("file://nas", "/videos/north.mp4")),
        ("s3://aws_default@campaigns/2026/north.mp4", ("s3://campaigns", "2026/north.mp4")),
        ("s3a://campaigns/2026/north.mp4", ("s3://campaigns", "2026/north.mp4")),
        ("gcs://campaigns/2026/north.mp4", ("gs://campaigns", "2026/north.mp4")),
        ("gs://campaigns/north.mp4", ("gs://campaigns", "north.mp4")),
    ],
)
def test_names_follow_openlineage_naming(path: str, expected: tuple[str, str]) -> None:
    assert dataset_name(path) == expected
