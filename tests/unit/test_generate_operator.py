"""HeyGenGenerateVideoOperator (HTTP mocked with requests-mock) and its extra link."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import urllib3

from heygen_provider._compat import AirflowFailException
from heygen_provider.exceptions import (
    HeyGenRenderError,
    HeyGenRequestValidationError,
    HeyGenSubmitUncertainError,
    HeyGenTransportError,
)
from heygen_provider.links.heygen import HeyGenVideoLink
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.answers import UNSUCCESSFUL_EVENTS, created_body, event, v3_created_body, v3_video_body
from tests.fixtures.connections import API_KEY, BASE_URL, assert_no_key
from tests.fixtures.loopback import StatusServer
from tests.fixtures.operators import CREATE_PATH, FakeStateStore, FakeTI, FakeVariables
from tests.fixtures.scenes import scene

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]

NOW = 1_800_000_000.0
NOT_REQUEST_PARAMS = {"heygen_conn_id", "wait_for_completion", "deferrable", "poll_interval", "timeout", "kwargs"}


@pytest.fixture(autouse=True)
def _setup(heygen_conn: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection, fast back-off, and a frozen clock in the operator and waiting modules."""
    import time as real_time

    frozen = SimpleNamespace(time=lambda: NOW, strftime=real_time.strftime, gmtime=real_time.gmtime)
    monkeypatch.setattr("heygen_provider.operators.render.time", frozen)
    monkeypatch.setattr("heygen_provider.triggers.heygen.time", frozen)


#: What execute() pushes for video vid-1: its id, then its page (a HeyGen connection: HeyGen's web app).
SUBMITTED_VID_1 = [("video_id", "vid-1"), ("video_page_url", "https://app.heygen.com/videos/vid-1")]


class Tries:
    """The contexts of successive tries of one task instance, sharing one submission record store."""

    def __init__(self, kind: str, variables: FakeVariables | None) -> None:
        self.kind = kind
        self.variables = variables
        self.store = FakeStateStore()
        self.tis: list[FakeTI] = []

    def context(self) -> dict[str, Any]:
        ti = FakeTI(try_number=len(self.tis) + 1)
        self.tis.append(ti)
        context: dict[str, Any] = {"ti": ti}
        if self.kind == "state_store":
            context["task_state_store"] = self.store
        return context

    def records(self) -> dict[str, str]:
        return self.store.data if self.kind == "state_store" else self.variables.data  # type: ignore[union-attr]


@pytest.fixture(params=["state_store", "variable"])
def tries(request: pytest.FixtureRequest, fake_variables: FakeVariables) -> Tries:
    """Both record kinds: the 3.3 task state store, and the Variable used when it is absent (3.1, 3.2)."""
    return Tries(request.param, fake_variables)


@pytest.fixture
def context(tries: Tries) -> dict[str, Any]:
    return tries.context()


def make_operator(**kwargs: Any) -> HeyGenGenerateVideoOperator:
    kwargs.setdefault("video_inputs", [scene()])
    kwargs.setdefault("poll_interval", 5)
    kwargs.setdefault("timeout", 600)
    kwargs.setdefault("deferrable", True)
    return HeyGenGenerateVideoOperator(task_id="render", **kwargs)


V3_VIDEOS = "/v3/videos"


def mock_create(mock: Any, *video_ids: str, base: str = BASE_URL) -> None:
    mock.post(base + V3_VIDEOS, [{"json": v3_created_body(v)} for v in video_ids])


def mock_status(mock: Any, video_id: str, *statuses: str, base: str = BASE_URL) -> None:
    mock.get(f"{base}{V3_VIDEOS}/{video_id}", [{"json": v3_video_body(video_id, status)} for status in statuses])


def posts(mock: Any) -> list[Any]:
    return [r for r in mock.request_history if r.method == "POST"]


def deferred_trigger(operator: HeyGenGenerateVideoOperator, context: dict[str, Any]) -> HeyGenVideoStatusTrigger:
    with pytest.raises(TaskDeferred) as caught:
        operator.execute(context)
    assert caught.value.method_name == "execute_complete"
    assert caught.value.timeout is None  # defer(timeout=...) would fail without calling execute_complete
    assert isinstance(caught.value.trigger, HeyGenVideoStatusTrigger)
    return caught.value.trigger


class TestConstruction:
    def test_every_request_parameter_is_templated(self) -> None:
        params = set(inspect.signature(HeyGenGenerateVideoOperator.__init__).parameters) - {"self"}
        assert params - NOT_REQUEST_PARAMS <= set(HeyGenGenerateVideoOperator.template_fields)
        assert ".json" in HeyGenGenerateVideoOperator.template_ext

    @pytest.mark.parametrize(
        "bad", [{"poll_interval": 0}, {"poll_interval": -1}, {"timeout": 0}, {"timeout": timedelta(seconds=-5)}]
    )
    def test_non_positive_poll_interval_or_timeout_is_rejected(self, bad: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match=next(iter(bad))):
            make_operator(**bad)

    def test_timedelta_timeout_becomes_seconds(self) -> None:
        assert make_operator(timeout=timedelta(minutes=20)).timeout == 1200.0


class TestBuildRequest:
    def test_invalid_params_fail_before_any_http_call(self, requests_mock: Any, context: dict[str, Any]) -> None:
        bad = scene()
        bad["voice"]["speed"] = 2.0
        with pytest.raises(HeyGenRequestValidationError) as caught:
            make_operator(video_inputs=[bad]).execute(context)
        assert any(p.startswith("video_inputs[0].voice.speed") for p in caught.value.problems)
        assert requests_mock.call_count == 0
        assert context["ti"].pushed == []

    @pytest.mark.parametrize(
        "text",
        [json.dumps([scene("from JSON")]), repr([scene("from JSON")])],
        ids=["json-text", "python-literal"],
    )
    def test_video_inputs_as_text_are_parsed(self, text: str) -> None:
        payload = make_operator(video_inputs=text).build_request().to_payload()
        assert payload["video_inputs"][0]["voice"]["input_text"] == "from JSON"

    @pytest.mark.parametrize(("preset", "size"), [("720p", (1280, 720)), ("1080p", (1920, 1080)), ("4K", (3840, 2160))])
    def test_dimension_presets_pass_through(self, preset: str, size: tuple[int, int]) -> None:
        payload = make_operator(dimension=preset).build_request().to_payload()
        assert (payload["dimension"]["width"], payload["dimension"]["height"]) == size

    def test_video_inputs_from_a_json_template_file(self, tmp_path: Any) -> None:
        from airflow.sdk import DAG

        scenes = [scene("Hello {{ params.name }}")]
        (tmp_path / "scenes.json").write_text(json.dumps(scenes))
        with DAG("heygen_template_file", schedule=None, template_searchpath=[str(tmp_path)]):
            operator = make_operator(video_inputs="scenes.json", title="{{ params.name }}'s video")
        operator.render_template_fields({"params": {"name": "Ada"}})
        payload = operator.build_request().to_payload()
        assert payload["video_inputs"][0]["voice"]["input_text"] == "Hello Ada"
        assert payload["title"] == "Ada's video"

    def test_a_url_ending_in_json_is_not_a_template_file(self, tmp_path: Any) -> None:
        from airflow.sdk import DAG

        with DAG("heygen_json_url", schedule=None, template_searchpath=[str(tmp_path)]):
            operator = make_operator(callback_url="https://example.com/heygen/callback.json")
        operator.render_template_fields({"params": {}})
        assert operator.callback_url == "https://example.com/heygen/callback.json"


class TestExecute:
    def test_already_completed_returns_at_once(self, requests_mock: Any, context: dict[str, Any]) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "completed")
        result = make_operator().execute(context)
        assert context["ti"].pushed == SUBMITTED_VID_1
        assert [r.method for r in requests_mock.request_history] == ["POST", "GET"]
        assert json.loads(json.dumps(result)) == result
        expected_keys = {"video_id", "status", "video_url", "thumbnail_url", "gif_url", "caption_url", "duration"}
        assert expected_keys | {"callback_id"} <= set(result)
        # v3's status answer carries no callback_id (a legacy one does: test_sensor.py).
        assert (result["video_id"], result["status"], result["callback_id"]) == ("vid-1", "success", None)
        assert result["video_url"] == "https://files.heygen.ai/vid-1.mp4"

    def test_already_failed_raises_with_heygens_code(self, requests_mock: Any, context: dict[str, Any]) -> None:
        mock_create(requests_mock, "vid-1")
        failure = {"failure_code": "40119", "failure_message": "Video is too long"}
        requests_mock.get(f"{BASE_URL}{V3_VIDEOS}/vid-1", json=v3_video_body("vid-1", "failed", **failure))
        with pytest.raises(HeyGenRenderError) as caught:
            make_operator().execute(context)
        assert (caught.value.status, caught.value.code, caught.value.message) == (
            "failed",
            "40119",
            "Video is too long",
        )
        assert context["ti"].pushed == SUBMITTED_VID_1

    def test_defers_to_the_status_trigger(self, requests_mock: Any, context: dict[str, Any]) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "processing")
        operator = make_operator(
            heygen_conn_id="heygen_default", poll_interval=12, timeout=900, execution_timeout=timedelta(minutes=30)
        )
        trigger = deferred_trigger(operator, context)
        assert context["ti"].pushed == SUBMITTED_VID_1
        assert trigger.serialize()[1] == {
            "video_id": "vid-1",
            "heygen_conn_id": "heygen_default",
            "poll_interval": 12.0,
            "end_time": NOW + 900,
            "execution_deadline": context["ti"].start_date.timestamp() + 1800,
        }
        assert len(posts(requests_mock)) == 1

    def test_without_execution_timeout_there_is_no_execution_deadline(
        self, requests_mock: Any, context: dict[str, Any]
    ) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "pending")
        assert deferred_trigger(make_operator(), context).execution_deadline is None

    def test_fire_and_forget_returns_after_submit(self, requests_mock: Any, context: dict[str, Any]) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "waiting")
        result = make_operator(wait_for_completion=False).execute(context)
        assert (result["video_id"], result["status"]) == ("vid-1", "queued")
        assert len(posts(requests_mock)) == 1
        assert requests_mock.call_count == 2

    def test_fire_and_forget_keeps_the_variable_record_after_the_success(
        self, requests_mock: Any, fake_variables: FakeVariables
    ) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "processing")
        operator = make_operator(wait_for_completion=False)
        context = {"ti": FakeTI()}
        operator.execute(context)
        assert fake_variables.data, "a failure after execute() returns must still find the record"
        run_success_callbacks(operator, context)
        assert fake_variables.data, "a cleared task must still find it"


def run_success_callbacks(operator: Any, context: dict[str, Any]) -> None:
    """What Airflow's task runner does once it has recorded the success."""
    callbacks = operator.on_success_callback or []
    for callback in callbacks if isinstance(callbacks, list) else [callbacks]:
        callback(context)


class TestExecuteComplete:
    def test_success_is_idempotent_and_makes_no_http_call(self, requests_mock: Any, context: dict[str, Any]) -> None:
        operator = make_operator()
        first = operator.execute_complete(context, event("success"))
        second = operator.execute_complete(context, event("success"))
        assert first == second
        assert event("success")["result"].items() <= first.items()
        assert requests_mock.call_count == 0
        assert context["ti"].pushed == [("video_id", "vid-1")] * 2

    @pytest.mark.parametrize(("status", "code", "message"), UNSUCCESSFUL_EVENTS)
    def test_other_outcomes_raise_with_heygens_code(
        self, requests_mock: Any, context: dict[str, Any], status: str, code: Any, message: str
    ) -> None:
        operator = make_operator()
        for _ in range(2):
            with pytest.raises(HeyGenRenderError) as caught:
                operator.execute_complete(context, event(status, code, message))
            assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)
        assert requests_mock.call_count == 0

    def test_the_record_outlives_the_success(self, tries: Tries, requests_mock: Any) -> None:
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "processing")
        deferred_trigger(make_operator(), tries.context())
        recorded = tries.records()
        assert recorded
        operator = make_operator()
        operator.execute_complete(tries.context(), event("success"))
        run_success_callbacks(operator, tries.context())
        assert tries.records() == recorded, "kept on every Airflow version, so a cleared task re-attaches"

    def test_the_users_success_callbacks_are_left_as_given(self) -> None:
        def mine(context: Any) -> None: ...

        assert not make_operator().on_success_callback
        assert make_operator(on_success_callback=mine).on_success_callback in (mine, [mine])


class TestBlockingMode:
    def test_waits_on_the_worker_with_the_triggers_code(
        self, requests_mock: Any, status_server: StatusServer, context: dict[str, Any], no_jitter: None
    ) -> None:
        mock_create(requests_mock, "vid-1", base=status_server.url)
        mock_status(requests_mock, "vid-1", "processing", base=status_server.url)
        status_server.statuses("vid-1", "processing", "processing", "completed")
        result = make_operator(deferrable=False, poll_interval=0.005).execute(context)
        assert (result["video_id"], result["status"]) == ("vid-1", "success")
        assert len(status_server.polls("vid-1")) == 3
        assert len(posts(requests_mock)) == 1

    def test_failed_render_raises(
        self, requests_mock: Any, status_server: StatusServer, context: dict[str, Any], no_jitter: None
    ) -> None:
        mock_create(requests_mock, "vid-1", base=status_server.url)
        mock_status(requests_mock, "vid-1", "processing", base=status_server.url)
        failure = {"failure_code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT", "failure_message": "Insufficient credit"}
        status_server.script("vid-1", (200, v3_video_body("vid-1", "failed", **failure)))
        with pytest.raises(HeyGenRenderError) as caught:
            make_operator(deferrable=False, poll_interval=0.005).execute(context)
        assert caught.value.code == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"


class TestNoSecondPaidRender:
    def first_try(self, tries: Tries, requests_mock: Any, **operator_kwargs: Any) -> None:
        mock_create(requests_mock, "vid-1", "vid-2")
        mock_status(requests_mock, "vid-1", "processing")
        deferred_trigger(make_operator(**operator_kwargs), tries.context())

    @pytest.mark.parametrize("earlier", ["processing", "completed"])
    def test_retry_reattaches_to_a_live_or_finished_video(self, tries: Tries, requests_mock: Any, earlier: str) -> None:
        self.first_try(tries, requests_mock)
        mock_status(requests_mock, "vid-1", earlier)
        context = tries.context()
        if earlier == "processing":
            assert deferred_trigger(make_operator(), context).video_id == "vid-1"
        else:
            assert make_operator().execute(context)["video_id"] == "vid-1"
        assert context["ti"].pushed == SUBMITTED_VID_1
        assert len(posts(requests_mock)) == 1

    @pytest.mark.parametrize("earlier", ["failed", "cancelled", "gone"])
    def test_retry_resubmits_when_the_earlier_video_is_lost(
        self, tries: Tries, requests_mock: Any, earlier: str
    ) -> None:
        self.first_try(tries, requests_mock)
        if earlier == "gone":
            requests_mock.get(
                f"{BASE_URL}{V3_VIDEOS}/vid-1",
                status_code=404,
                json={"error": {"code": "video_not_found", "message": "not found"}},
            )
        else:
            mock_status(requests_mock, "vid-1", earlier)
        mock_status(requests_mock, "vid-2", "processing")
        context = tries.context()
        assert deferred_trigger(make_operator(), context).video_id == "vid-2"
        assert len(posts(requests_mock)) == 2
        assert "vid-2" in json.dumps(tries.records())

    def test_retry_with_a_changed_request_submits_it(self, tries: Tries, requests_mock: Any) -> None:
        self.first_try(tries, requests_mock, title="first")
        mock_status(requests_mock, "vid-2", "processing")
        assert deferred_trigger(make_operator(title="second"), tries.context()).video_id == "vid-2"
        assert [r.json()["title"] for r in posts(requests_mock)] == ["first", "second"]

    @pytest.mark.parametrize(
        "failure",
        [
            pytest.param(
                {"status_code": 502, "json": {"code": 500123, "message": f"upstream broke near {API_KEY}"}}, id="502"
            ),
            pytest.param({"exc": requests.exceptions.ConnectionError("Connection reset by peer")}, id="reset"),
            pytest.param({"exc": requests.exceptions.ReadTimeout("read timed out")}, id="read-timeout"),
        ],
    )
    # Legacy: a create without an idempotency key (v3's keyed creates: test_generate_operator_v3.py).
    @pytest.mark.legacy
    def test_uncertain_submit_fails_without_retry(
        self, requests_mock: Any, context: dict[str, Any], failure: dict[str, Any]
    ) -> None:
        requests_mock.post(BASE_URL + CREATE_PATH, [failure, {"json": created_body("vid-2")}])
        with pytest.raises(HeyGenSubmitUncertainError) as caught:
            make_operator(title="Quarterly update").execute(context)
        assert isinstance(caught.value, AirflowFailException)
        assert len(posts(requests_mock)) == 1
        text = str(caught.value)
        assert_no_key(text)
        assert "Quarterly update" in text
        if "status_code" in failure:
            assert "500123" in text
            assert "upstream broke near ***" in text
        assert context["ti"].pushed == []

    @pytest.mark.parametrize(
        "never_sent",
        [
            requests.exceptions.ConnectTimeout("connect timed out"),
            requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None,  # type: ignore[arg-type]
                    V3_VIDEOS,
                    reason=urllib3.exceptions.NewConnectionError(None, "Connection refused"),  # type: ignore[arg-type]
                )
            ),
        ],
        ids=["connect-timeout", "refused"],
    )
    def test_a_request_that_never_left_is_retried(
        self, requests_mock: Any, context: dict[str, Any], never_sent: Exception
    ) -> None:
        requests_mock.post(BASE_URL + V3_VIDEOS, [{"exc": never_sent}, {"json": v3_created_body("vid-1")}])
        mock_status(requests_mock, "vid-1", "completed")
        assert make_operator().execute(context)["video_id"] == "vid-1"
        assert len(posts(requests_mock)) == 2

    def test_connection_never_established_is_not_an_uncertain_submit(
        self, requests_mock: Any, context: dict[str, Any]
    ) -> None:
        requests_mock.post(BASE_URL + V3_VIDEOS, exc=requests.exceptions.ConnectTimeout("connect timed out"))
        with pytest.raises(HeyGenTransportError) as caught:
            make_operator().execute(context)
        assert not isinstance(caught.value, AirflowFailException)  # Airflow may retry: nothing was sent

    def test_429_on_submit_is_retried_after_retry_after(
        self, requests_mock: Any, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch, recorded_sleeps: list[float]
    ) -> None:
        from heygen_provider.retry import RetryPolicy

        monkeypatch.setattr("heygen_provider.connection.RetryPolicy", RetryPolicy)
        requests_mock.post(
            BASE_URL + V3_VIDEOS,
            [
                {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "too many"}},
                {"json": v3_created_body("vid-1")},
            ],
        )
        mock_status(requests_mock, "vid-1", "completed")
        assert make_operator().execute(context)["video_id"] == "vid-1"
        assert len(posts(requests_mock)) == 2
        assert recorded_sleeps == [7.0]


class TestNoKeyLeaks:
    def test_key_is_never_in_xcom_trigger_fields_or_errors(self, requests_mock: Any, context: dict[str, Any]) -> None:
        operator = make_operator(title="{{ params.title }}")
        operator.render_template_fields({"params": {"title": "Launch"}})
        mock_create(requests_mock, "vid-1")
        mock_status(requests_mock, "vid-1", "processing")
        trigger = deferred_trigger(operator, context)
        result = operator.execute_complete(context, event("success"))
        assert all(r.headers["X-Api-Key"] == API_KEY for r in requests_mock.request_history)
        assert_no_key(
            context["ti"].pushed,
            result,
            json.dumps(trigger.serialize()),
            repr(trigger),
            {name: getattr(operator, name) for name in operator.template_fields},
        )


class TestExtraLink:
    def test_link_to_the_video_from_xcom(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.sdk.execution_time.xcom import XCom

        asked: list[dict[str, Any]] = []

        def get_value(**kwargs: Any) -> Any:
            asked.append(kwargs)
            return {"video_id": "abc123"}.get(kwargs["key"])

        monkeypatch.setattr(XCom, "get_value", get_value)
        ti_key = SimpleNamespace(dag_id="d", task_id="render", run_id="r", try_number=1, map_index=-1)
        link = HeyGenVideoLink().get_link(make_operator(), ti_key=ti_key)
        assert link == "https://app.heygen.com/videos/abc123"
        assert asked == [{"ti_key": ti_key, "key": "video_id"}, {"ti_key": ti_key, "key": "video_page_url"}]

    def test_the_page_the_task_pushed_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.sdk.execution_time.xcom import XCom

        pushed = {"video_id": "abc123", "video_page_url": "http://127.0.0.1:8123/videos/abc123"}
        monkeypatch.setattr(XCom, "get_value", lambda **kwargs: pushed.get(kwargs["key"]))
        assert HeyGenVideoLink().get_link(make_operator(), ti_key=SimpleNamespace()) == pushed["video_page_url"]

    def test_no_video_id_means_no_link(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.sdk.execution_time.xcom import XCom

        monkeypatch.setattr(XCom, "get_value", lambda **kwargs: None)
        assert HeyGenVideoLink().get_link(make_operator(), ti_key=SimpleNamespace()) == ""

    def test_operator_declares_the_link(self) -> None:
        assert any(isinstance(link, HeyGenVideoLink) for link in HeyGenGenerateVideoOperator.operator_extra_links)
