"""Request bodies and calls shared by the emulator tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

GENERATE = "/v2/video/generate"
STATUS = "/v1/video_status.get"

VALID_BODY: dict[str, Any] = {
    "video_inputs": [
        {
            "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818", "avatar_style": "normal"},
            "voice": {
                "type": "text",
                "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                "input_text": "Welcome to the quarterly update. Revenue grew in every region this quarter.",
            },
        }
    ],
    "dimension": {"width": 1280, "height": 720},
}


def video_body(**top_level: Any) -> dict[str, Any]:
    """A valid creation body, with top-level fields added or replaced."""
    body = copy.deepcopy(VALID_BODY)
    body.update(top_level)
    return body


def create_video(api: httpx.Client, **top_level: Any) -> str:
    """Create a video and answer its id."""
    answer = api.post(GENERATE, json=video_body(**top_level))
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["error"] is None
    video_id: str = payload["data"]["video_id"]
    return video_id


def status_of(api: httpx.Client, video_id: str) -> dict[str, Any]:
    """The ``data`` of the legacy status answer."""
    answer = api.get(STATUS, params={"video_id": video_id})
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["code"] == 100 and payload["message"] == "Success"
    data: dict[str, Any] = payload["data"]
    return data
