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


# v3 -----------------------------------------------------------------------------------------------

V3_VIDEOS = "/v3/videos"
V3_STATUSES = "/v3/videos/statuses"
DAISY = "Daisy-inskirt-20220818"
RACHEL = "2d5b0e6cf36f460aa7fc47e3eee4ba54"
PHOTO_LOOK = "emulator_photo_0001"

V3_BODY: dict[str, Any] = {
    "type": "avatar",
    "avatar_id": DAISY,
    "script": "Welcome to the quarterly update. Revenue grew in every region this quarter.",
    "voice_id": RACHEL,
}


def v3_body(**fields: Any) -> dict[str, Any]:
    """A valid ``POST /v3/videos`` body (``type: avatar``), with fields added, replaced or (``None``) removed."""
    body = copy.deepcopy(V3_BODY)
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def create_v3(api: httpx.Client, key: str | None = None, **fields: Any) -> str:
    """Create a video through v3 and answer its id."""
    headers = {"Idempotency-Key": key} if key else {}
    answer = api.post(V3_VIDEOS, json=v3_body(**fields), headers=headers)
    assert answer.status_code == 200, answer.text
    video_id: str = answer.json()["data"]["video_id"]
    return video_id


def v3_video(api: httpx.Client, video_id: str) -> dict[str, Any]:
    """The ``data`` of ``GET /v3/videos/{id}``."""
    answer = api.get(f"{V3_VIDEOS}/{video_id}")
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def v3_error(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The ``error`` object of a v3 error answer, after checking its status and shape."""
    assert answer.status_code == status, answer.text
    payload = answer.json()
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message", "param", "doc_url"}
    error: dict[str, Any] = payload["error"]
    return error
