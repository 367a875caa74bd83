"""
The operator on v3 (the default): every create carries an idempotency key derived from the task instance,
so HTTP retries, task retries and a worker killed after the POST render one video; a deliberate new
render after a failed one gets a new key.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from heygen_provider.exceptions import HeyGenError, HeyGenServerError, HeyGenSubmitUncertainError
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from tests.fixtures.answers import v3_created_body, v3_video_body
from tests.fixtures.connections import BASE_URL
from tests.fixtures.operators import FakeStateStore, FakeTI, StateStoreTries
from tests.fixtures.scenes import scene

CREATE_URL = f"{BASE_URL}/v3/videos"


def status_url(video_id: str) -> str:
    return f"{BASE_URL}/v3/videos/{video_id}"


pytestmark = pytest.mark.usefixtures("heygen_conn")


Tries = StateStoreTries


def operator(**kwargs: Any) -> HeyGenGenerateVideoOperator:
    kwargs.setdefault("video_inputs", [scene()])
    return HeyGenGenerateVideoOperator(task_id="render", deferrable=False, poll_interval=0.01, timeout=30, **kwargs)


def keys(requests_mock: Any) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in requests_mock.request_history if r.method == "POST"]


def test_the_create_carries_a_key_of_the_allowed_shape(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, json=v3_created_body("vid-1"))
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    result = operator().execute(Tries().context())
    assert result is not None and result["video_id"] == "vid-1"
    (key,) = keys(requests_mock)
    assert 1 <= len(key) <= 255 and all(char.isalnum() or char in "_:.-" for char in key)
    assert json.loads(requests_mock.request_history[0].body)["type"] == "avatar"


def test_a_create_that_kept_failing_is_not_uncertain_and_the_retry_sends_the_same_key(requests_mock: Any) -> None:
    tries = Tries()
    requests_mock.post(CREATE_URL, [{"status_code": 503, "text": "busy"}] * 5 + [{"json": v3_created_body("vid-1")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))

    with pytest.raises(HeyGenServerError) as first:
        operator().execute(tries.context())
    assert not isinstance(first.value, HeyGenSubmitUncertainError), "a keyed create is safe to send again"
    result = operator().execute(tries.context())

    assert result is not None and result["video_id"] == "vid-1"
    assert len(set(keys(requests_mock))) == 1


def test_a_worker_killed_after_the_post_costs_no_second_render(requests_mock: Any) -> None:
    # HeyGen created the video, but the worker died before the record was written.
    tries = Tries()
    seen: dict[str, str] = {}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        key = request.headers["Idempotency-Key"]
        seen.setdefault(key, f"vid-{len(seen) + 1}")  # HeyGen replays the first answer for a known key
        return {"data": {"video_id": seen[key], "status": "waiting"}}

    requests_mock.post(CREATE_URL, json=answer)
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    store = tries.store
    real_set = store.set
    store.set = lambda *args, **kwargs: (_ for _ in ()).throw(SystemExit("worker killed"))  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        operator().execute(tries.context())
    store.set = real_set  # type: ignore[method-assign]

    result = operator().execute(tries.context())

    assert result is not None and result["video_id"] == "vid-1"
    assert list(seen.values()) == ["vid-1"], "one video, whatever the number of POSTs"


def test_a_new_render_after_a_failed_one_uses_a_new_key(requests_mock: Any) -> None:
    tries = Tries()
    requests_mock.post(CREATE_URL, [{"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "failed", failure_code="internal_error"))
    requests_mock.get(status_url("vid-2"), json=v3_video_body("vid-2", "completed"))

    with pytest.raises(HeyGenError):
        operator().execute(tries.context())
    result = operator().execute(tries.context())

    assert result is not None and result["video_id"] == "vid-2"
    first, second = keys(requests_mock)
    assert first != second


def test_another_task_instance_gets_another_key(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [{"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    requests_mock.get(status_url("vid-2"), json=v3_video_body("vid-2", "completed"))
    operator().execute({"ti": FakeTI(map_index=0), "task_state_store": FakeStateStore()})
    operator().execute({"ti": FakeTI(map_index=1), "task_state_store": FakeStateStore()})
    first, second = keys(requests_mock)
    assert first != second


def test_a_failed_record_read_fails_the_try_without_submitting(requests_mock: Any) -> None:
    store = FakeStateStore()
    store.get = lambda *args, **kwargs: (_ for _ in ()).throw(requests.ConnectionError("API server 503"))  # type: ignore[method-assign]
    with pytest.raises(HeyGenError, match="not submitting"):
        operator().execute({"ti": FakeTI(), "task_state_store": store})
    assert requests_mock.call_count == 0


def test_legacy_only_input_fails_before_any_call(requests_mock: Any) -> None:
    with pytest.raises(HeyGenError, match=r"test: needs api_version 'legacy'"):
        operator(test=True).execute(Tries().context())
    assert requests_mock.call_count == 0


def test_v3_options_reach_the_body(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, json=v3_created_body("vid-1"))
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    operator(engine="avatar_v", resolution="1080p", aspect_ratio="9:16", motion_prompt="nods").execute(
        Tries().context()
    )
    body = json.loads(requests_mock.request_history[0].body)
    assert (body["engine"], body["resolution"], body["aspect_ratio"], body["motion_prompt"]) == (
        {"type": "avatar_v"},
        "1080p",
        "9:16",
        "nods",
    )
