"""
The template operator at the HTTP boundary (requests-mock): the template is read and the row checked
before any paid call, every bad variable is named at once, and the generate operator's guarantees hold
(the idempotency key, re-attaching on retry, no second render).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from heygen_provider.exceptions import (
    HeyGenConnectionError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRequestValidationError,
    HeyGenServerError,
    HeyGenTemplateVariablesError,
)
from heygen_provider.models.template import Template, template_variables
from heygen_provider.operators.template import HeyGenTemplateVideoOperator
from tests.fixtures.connections import BASE_URL, CONN_ENV, connection_json
from tests.fixtures.operators import StateStoreTries

TEMPLATE_URL = f"{BASE_URL}/v3/templates/tpl-1"
TEMPLATE = {
    "data": {
        "id": "tpl-1",
        "name": "Welcome",
        "variables": {
            "first_name": {"name": "first_name", "type": "text", "properties": {"content": "Alex"}},
            "logo": {"name": "logo", "type": "image", "properties": {"url": "https://example.com/a.png"}},
            "presenter": {
                "name": "presenter",
                "type": "character",
                "properties": {"character_id": "av-1", "type": "talking_photo"},
            },
        },
        "scenes": [{"scene_id": "s1", "script": "Hi {{first_name}}!"}],
    }
}
ROW = {"first_name": "Grace", "logo": "https://example.com/grace.png", "presenter": "av-2"}


def status_url(video_id: str) -> str:
    return f"{BASE_URL}/v3/videos/{video_id}"


def video(video_id: str, status: str) -> dict[str, Any]:
    data: dict[str, Any] = {"id": video_id, "status": status}
    if status == "completed":
        data["video_url"] = f"https://files.heygen.ai/{video_id}.mp4"
    return {"data": data}


pytestmark = pytest.mark.usefixtures("heygen_conn")


Tries = StateStoreTries


def operator(**kwargs: Any) -> HeyGenTemplateVideoOperator:
    kwargs.setdefault("variables", ROW)
    return HeyGenTemplateVideoOperator(
        task_id="render", template_id="tpl-1", deferrable=False, poll_interval=0.01, timeout=30, **kwargs
    )


def posts(requests_mock: Any) -> list[Any]:
    return [request for request in requests_mock.request_history if request.method == "POST"]


def test_renders_the_row_in_the_template_with_a_keyed_create(requests_mock: Any) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    requests_mock.post(TEMPLATE_URL, json=video("vid-1", "pending"))
    requests_mock.get(status_url("vid-1"), json=video("vid-1", "completed"))

    result = operator(title="Welcome Grace", caption=True).execute(Tries().context())

    assert result is not None and result["video_id"] == "vid-1" and result["title"] == "Welcome Grace"
    [post] = posts(requests_mock)
    assert post.headers["Idempotency-Key"].startswith("airflow-heygen:")
    body = json.loads(post.body)
    assert body == {
        "title": "Welcome Grace",
        "caption": True,
        "variables": {
            "first_name": {"name": "first_name", "type": "text", "properties": {"content": "Grace"}},
            "logo": {"name": "logo", "type": "image", "properties": {"url": "https://example.com/grace.png"}},
            # A character keeps the kind of the template's default.
            "presenter": {
                "name": "presenter",
                "type": "character",
                "properties": {"character_id": "av-2", "type": "talking_photo"},
            },
        },
    }


def test_every_bad_variable_is_named_at_once_and_nothing_is_posted(requests_mock: Any) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    requests_mock.post(TEMPLATE_URL, json=video("vid-1", "pending"))
    row = {"first_name": "Grace", "logo": "grace.png", "company": "Acme"}

    with pytest.raises(HeyGenTemplateVariablesError) as raised:
        operator(variables=row).execute(Tries().context())

    text = str(raised.value)
    assert "tpl-1" in text and "3 problem(s)" in text
    assert "variables.logo: must be an http(s) URL" in text
    assert "variables.company: template tpl-1 has no variable of this name" in text
    assert "variables.presenter: missing (character variable" in text
    assert posts(requests_mock) == []


def test_a_row_may_leave_defaults_when_asked_and_give_heygen_shaped_values(requests_mock: Any) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    requests_mock.post(TEMPLATE_URL, json=video("vid-1", "pending"))
    requests_mock.get(status_url("vid-1"), json=video("vid-1", "completed"))
    row = {"logo": {"type": "image", "properties": {"asset_id": "asset-9"}}}

    operator(variables=json.dumps(row), require_all_variables=False).execute(Tries().context())

    [post] = posts(requests_mock)
    assert json.loads(post.body)["variables"] == {
        "logo": {"name": "logo", "type": "image", "properties": {"asset_id": "asset-9"}}
    }


def test_a_mistyped_object_and_a_bad_scene_are_refused_before_any_post(requests_mock: Any) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    row = {**ROW, "logo": {"type": "video", "properties": {"url": "https://example.com/a.mp4"}}}

    with pytest.raises(HeyGenTemplateVariablesError) as raised:
        operator(variables=row, scene_ids=["s1", "s9"]).execute(Tries().context())

    assert "variables.logo: is of type image, not 'video'" in str(raised.value)
    assert "scene_ids[1]: template tpl-1 has no scene 's9'" in str(raised.value)
    assert posts(requests_mock) == []


def test_an_unknown_template_fails_before_any_post(requests_mock: Any) -> None:
    requests_mock.get(
        TEMPLATE_URL,
        status_code=404,
        json={"error": {"code": "template_not_found", "message": "Template tpl-1 not found"}},
    )

    with pytest.raises(HeyGenNotFoundError, match="not found"):
        operator().execute(Tries().context())
    assert posts(requests_mock) == []


def test_a_legacy_connection_says_templates_need_v3_without_any_call(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONN_ENV, connection_json(api_version="legacy"))

    with pytest.raises(HeyGenConnectionError, match="api_version to 'v3'"):
        operator().execute(Tries().context())
    assert requests_mock.request_history == []


def test_a_bad_dimension_is_a_validation_error(requests_mock: Any) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)

    with pytest.raises(HeyGenRequestValidationError, match=r"dimension\.width: must be an even number"):
        operator(dimension={"width": 721, "height": 1280}).execute(Tries().context())
    assert posts(requests_mock) == []


def test_a_retry_reattaches_to_the_video_of_the_first_try_without_posting(requests_mock: Any) -> None:
    tries = Tries()
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    requests_mock.post(TEMPLATE_URL, json=video("vid-1", "pending"))
    requests_mock.get(
        status_url("vid-1"),
        [{"status_code": 503, "json": {"error": {"code": "server_error", "message": "busy"}}}] * 5
        + [{"json": video("vid-1", "completed")}],
    )

    with pytest.raises(HeyGenServerError):
        operator().execute(tries.context())
    result = operator().execute(tries.context())

    assert result is not None and result["video_id"] == "vid-1"
    assert len(posts(requests_mock)) == 1


def test_a_create_that_kept_failing_is_sent_again_with_the_same_key(requests_mock: Any) -> None:
    tries = Tries()
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    requests_mock.post(TEMPLATE_URL, [{"status_code": 503, "text": "busy"}] * 5 + [{"json": video("vid-1", "pending")}])
    requests_mock.get(status_url("vid-1"), json=video("vid-1", "completed"))

    with pytest.raises(HeyGenServerError):
        operator().execute(tries.context())
    operator().execute(tries.context())

    assert len({post.headers["Idempotency-Key"] for post in posts(requests_mock)}) == 1


def test_mapped_rows_render_one_video_each_with_their_own_key() -> None:
    mapped = HeyGenTemplateVideoOperator.partial(task_id="render", template_id="tpl-1").expand(
        variables=[ROW, {**ROW, "first_name": "Ada"}]
    )
    assert mapped.expand_input.value["variables"][1]["first_name"] == "Ada"
    assert "variables" in HeyGenTemplateVideoOperator.template_fields


class TestTemplateModel:
    def test_types_missing_from_variables_come_from_the_scenes(self) -> None:
        template = Template.from_answer(
            "tpl-2",
            {
                "variables": [{"name": "city", "properties": "odd"}],
                "scenes": [{"scene_id": "s", "variables": [{"name": "city", "variable_type": "TEXT"}, {}]}],
            },
        )
        assert template.id == "tpl-2"
        assert template.variables["city"].type == "text" and template.variables["city"].properties == {}

    def test_an_odd_body_is_an_error_not_an_empty_template(self) -> None:
        # An empty template would let a row of no variables pay for the template's defaults.
        with pytest.raises(HeyGenMalformedResponseError, match="data is a list, not an object"):
            Template.from_answer("tpl-3", ["not", "a", "dict"])

    def test_a_variable_of_a_type_heygen_adds_later_needs_its_own_shape(self) -> None:
        template = Template.from_answer("t", {"variables": {"mood": {"type": "emotion", "properties": {}}}})
        _, problems = template_variables(template, {"mood": "happy"})
        assert problems == [
            "variables.mood: the variable type 'emotion' is new to this provider: give it as an object with type "
            "and properties"
        ]
        shaped, problems = template_variables(template, {"mood": {"type": "emotion", "properties": {"level": 3}}})
        assert problems == [] and shaped["mood"]["properties"] == {"level": 3}
        unknown = Template.from_answer("t", {"variables": {"mood": {"properties": {}}}})
        _, problems = template_variables(unknown, {"mood": "happy"})
        assert problems == [
            "variables.mood: the template does not say this variable's type: give it as an object with type "
            "and properties"
        ]

    @pytest.mark.parametrize(
        ("value", "rule"),
        [
            (True, "must be text (got bool)"),
            ("  ", "must not be empty"),
            ({"type": "text"}, "must be a plain value or an object with type and properties"),
            ({"type": "text", "properties": {"content": ""}}, "needs properties.content"),
        ],
    )
    def test_text_rules(self, value: Any, rule: str) -> None:
        template = Template.from_answer("t", TEMPLATE["data"])
        _, problems = template_variables(template, {"first_name": value}, require_all=False)
        assert len(problems) == 1 and rule in problems[0]
