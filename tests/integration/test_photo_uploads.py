"""Photos uploaded to the emulator's v3 assets: multipart up to 32 MB, HeyGen's direct upload above."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoGenerateRequest
from tests.fixtures.scenes import emulator_scene

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def photo_request(path: Path) -> VideoGenerateRequest:
    return VideoGenerateRequest.from_params(
        {
            "video_inputs": [
                {"character": {"type": "image", "image_path": path.as_uri()}, "voice": emulator_scene()["voice"]}
            ]
        }
    )


def test_a_photo_is_uploaded_as_multipart(emulator: Any, tmp_path: Path) -> None:
    photo = tmp_path / "face.png"
    photo.write_bytes(PNG)

    resolved, assets = HeyGenHook().upload_images(photo_request(photo), idempotency_key="airflow-heygen:test")

    [asset] = emulator.assets()
    assert (asset["source"], asset["size_bytes"], asset["mime_type"]) == ("upload", len(PNG), "image/png")
    assert resolved.video_inputs[0].character.image_asset_id == asset["asset_id"] == assets[photo.as_uri()]


def test_a_large_photo_goes_through_the_direct_upload_without_the_key(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("heygen_provider.hooks.assets.MULTIPART_LIMIT", 1024)  # this photo counts as large
    photo = tmp_path / "large.png"
    photo.write_bytes(PNG)

    resolved, _ = HeyGenHook().upload_images(photo_request(photo), idempotency_key="airflow-heygen:large")

    [asset] = emulator.assets()
    assert (asset["source"], asset["status"], asset["size_bytes"]) == ("direct_upload", "completed", len(PNG))
    assert asset["upload_credential"] is None, "the presigned PUT carried no API key"
    assert resolved.video_inputs[0].character.image_asset_id == asset["asset_id"]


def test_the_same_upload_sent_twice_with_its_key_is_one_asset(emulator: Any, tmp_path: Path) -> None:
    photo = tmp_path / "face.png"
    photo.write_bytes(PNG)
    for _ in range(2):
        HeyGenHook().upload_images(photo_request(photo), idempotency_key="airflow-heygen:twice")

    assert len(emulator.assets()) == 1
    assert len(emulator.idempotent_replays()) == 1
