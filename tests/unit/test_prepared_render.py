"""
The straight create path: a render is prepared once (validated, translated once) into a frozen
``PreparedRender``; execute uploads its missing photos over the hook's transport seam, then sends the
prepared body with their asset ids.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from heygen_provider.hooks.assets import ASSETS_PATH, Photo, upload_photos
from heygen_provider.idempotency import upload_key
from heygen_provider.models import v3_body
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.operators.render import PreparedRender
from heygen_provider.operators.template import HeyGenTemplateVideoOperator
from tests.fixtures.connections import BASE_URL
from tests.fixtures.operators import StateStoreTries
from tests.fixtures.scenes import scene

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
JPEG = b"\xff\xd8\xff" + b"\x00" * 500


pytestmark = pytest.mark.usefixtures("heygen_conn")


@pytest.fixture
def photos(tmp_path: Path) -> tuple[str, str]:
    north, south = tmp_path / "north.png", tmp_path / "south.jpg"
    north.write_bytes(PNG)
    south.write_bytes(JPEG)
    return str(north), str(south)


def photo_scene(path: str) -> dict[str, Any]:
    return {**scene(), "character": {"type": "image", "image_path": path}}


def operator(**kwargs: Any) -> HeyGenGenerateVideoOperator:
    return HeyGenGenerateVideoOperator(task_id="render", deferrable=False, poll_interval=0.01, timeout=30, **kwargs)


def test_a_request_is_translated_once_and_its_photos_uploaded_once_each(
    requests_mock: Any, photos: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    north, south = photos
    translations: list[Any] = []
    translate = v3_body._Translation.body

    def counted(self: Any, request: Any) -> dict[str, Any]:
        translations.append(request)
        return translate(self, request)

    monkeypatch.setattr(v3_body._Translation, "body", counted)
    requests_mock.post(f"{BASE_URL}{ASSETS_PATH}", [{"json": {"data": {"asset_id": f"asset-{n}"}}} for n in (1, 2)])
    requests_mock.post(f"{BASE_URL}/v3/videos", json={"data": {"video_id": "vid-1", "status": "waiting"}})
    requests_mock.get(
        f"{BASE_URL}/v3/videos/vid-1",
        json={"data": {"id": "vid-1", "status": "completed", "video_url": "https://files.heygen.ai/v.mp4"}},
    )

    context: Any = StateStoreTries().context()
    result = operator(video_inputs=[photo_scene(north), photo_scene(south), photo_scene(north)]).execute(context)

    assert result is not None and result["video_id"] == "vid-1"
    assert len(translations) == 1, "the request is translated once, before any call"
    posts = [call for call in requests_mock.request_history if call.method == "POST"]
    assert [call.path for call in posts] == [ASSETS_PATH, ASSETS_PATH, "/v3/videos"]
    images = [part["input"]["image"] for part in json.loads(posts[-1].body)["scenes"]]
    assert images == [{"type": "asset_id", "asset_id": asset} for asset in ("asset-1", "asset-2", "asset-1")]


def test_the_prepared_render_holds_the_payload_the_body_and_the_photos(photos: tuple[str, str]) -> None:
    north, _ = photos
    task = operator(video_inputs=[photo_scene(north)], title="North")

    render = task.prepare_render(task.hook)

    assert render.payload == task.build_request().to_payload()
    assert (render.title, render.template_id) == ("North", None)
    [photo] = render.photos
    assert (photo.scene, photo.path) == (0, north)
    # Until uploaded, the photo's asset id is a stand-in: never the local path, never sent.
    assert render.body["image"] == {"type": "asset_id", "asset_id": photo.stand_in}
    assert north not in json.dumps(render.body)
    with pytest.raises(dataclasses.FrozenInstanceError):
        render.body = {}  # type: ignore[misc]


def test_photo_uploads_need_only_the_transport_seam(photos: tuple[str, str]) -> None:
    north, south = photos

    class Transport:
        """Not a hook: what hooks.assets asks of one."""

        settings: Any = SimpleNamespace(connect_timeout=1.0, create_timeout=1.0)

        def __init__(self) -> None:
            self.posts: list[tuple[str, dict[str, Any]]] = []

        def post(self, path: str, **call: Any) -> Any:
            self.posts.append((path, call))
            return {"asset_id": f"asset-{len(self.posts)}"}

    transport = Transport()
    wanted = [Photo(0, north), Photo(1, south), Photo(2, north)]

    assets = upload_photos(transport, wanted, {south: "asset-earlier"}, "airflow-heygen:render")

    assert assets == {north: "asset-1", south: "asset-earlier"}
    [(path, call)] = transport.posts
    assert path == ASSETS_PATH and call["idempotent"] is True
    assert call["headers"]["Idempotency-Key"] == upload_key("airflow-heygen:render", north)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kwargs: HeyGenGenerateVideoOperator(task_id="render", video_inputs=[scene()], **kwargs),
        lambda **kwargs: HeyGenTemplateVideoOperator(task_id="render", template_id="tpl", variables={}, **kwargs),
    ],
    ids=["generate", "template"],
)
def test_both_operators_take_the_base_parameters_the_same_way(make: Any) -> None:
    defaults = {"heygen_conn_id": "heygen_eu", "poll_interval": 7, "timeout": 60, "cancel_on_kill": True}
    from_default_args = make(default_args=defaults, deferrable=False)
    given = make(**defaults, deferrable=False, wait_for_completion=False)

    for task in (from_default_args, given):
        assert (task.heygen_conn_id, task.poll_interval, task.timeout, task.cancel_on_kill) == (
            "heygen_eu",
            7,
            60,
            True,
        )
    assert (from_default_args.wait_for_completion, given.wait_for_completion) == (True, False)


def test_a_template_render_is_prepared_with_its_template_and_no_photos() -> None:
    render = PreparedRender(payload={"template_id": "tpl", "title": "T"}, body={"title": "T"}, template_id="tpl")
    assert (render.title, render.callback_id, render.photos) == ("T", None, ())
