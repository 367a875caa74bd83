"""
A template answer that cannot be read never leads to a paid render.

When ``GET /v3/templates/{id}`` answers ``data`` that is not an object, ``variables`` that are not an
object (or a list of named objects), or a variable entry that is not an object, the template operator
cannot check the row against the template: with a row of no variables it would pay for a render of the
template's defaults (placeholders). It must fail with a clear error naming the answer's problem, before
any create. Checked at the HTTP boundary (requests-mock); hypothesis draws the odd shapes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider.exceptions import HeyGenMalformedResponseError
from heygen_provider.operators.template import HeyGenTemplateVideoOperator
from tests.fixtures.answers import v3_created_body, v3_video_body
from tests.fixtures.connections import API_KEY, BASE_URL, connection_json
from tests.fixtures.operators import StateStoreTries

TEMPLATE_URL = f"{BASE_URL}/v3/templates/tpl-1"
FIRST_NAME = {"name": "first_name", "type": "text", "properties": {"content": "Alex"}}


@pytest.fixture(autouse=True)
def _v3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection_json())


def render_with_answer(http: Any, answer: Any, *, variables: Any = None, require_all: bool = True) -> BaseException:
    """Run the operator against ``answer`` (the whole JSON body); the error it raised, no create sent."""
    http.get(TEMPLATE_URL, text=json.dumps(answer))
    http.post(TEMPLATE_URL, json=v3_created_body("vid-1"))
    http.get(f"{BASE_URL}/v3/videos/vid-1", json={"data": {"id": "vid-1", "status": "completed"}})
    operator = HeyGenTemplateVideoOperator(
        task_id="render",
        template_id="tpl-1",
        variables={} if variables is None else variables,
        require_all_variables=require_all,
        deferrable=False,
        wait_for_completion=False,
    )
    with pytest.raises(HeyGenMalformedResponseError) as raised:
        operator.execute(StateStoreTries().context())
    assert [request.method for request in http.request_history] == ["GET"], "nothing but the free GET was sent"
    return raised.value


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (["not", "an", "object"], "data is a list, not an object"),
        ("tpl-1", "data is text, not an object"),
        ("42", "data is text, not an object"),
        (42, "data is a number, not an object"),
        (None, "data is null, not an object"),
        (True, "data is true or false, not an object"),
        ({"id": "tpl-1", "variables": "first_name"}, "variables is text, not an object"),
        ({"id": "tpl-1", "variables": "{}"}, "variables is text, not an object"),
        ({"id": "tpl-1", "variables": 3}, "variables is a number, not an object"),
        ({"id": "tpl-1", "variables": None}, "variables is null, not an object"),
        ({"id": "tpl-1", "variables": {"first_name": "Alex"}}, "variables.first_name is text, not an object"),
        ({"id": "tpl-1", "variables": {"first_name": None}}, "variables.first_name is null, not an object"),
        ({"id": "tpl-1", "variables": {"1": 1}}, "variables.1 is a number, not an object"),
        ({"id": "tpl-1", "variables": [FIRST_NAME, "junk"]}, "variables[1] is text, not an object"),
        ({"id": "tpl-1", "variables": [{"type": "text"}]}, "variables[0] has no name"),
        ({"id": "tpl-1", "variables": [{"name": 0, "type": "text"}]}, "variables[0] has no name"),
        ({"id": "tpl-1", "variables": [{"name": "", "type": "text"}]}, "variables[0] has no name"),
        ({"id": "tpl-1", "scenes": "scene_intro"}, "scenes is text, not a list"),
        ({"id": "tpl-1", "scenes": [7]}, "scenes[0] is a number, not an object"),
    ],
)
@pytest.mark.parametrize("require_all", [True, False])
def test_an_unreadable_answer_is_named_before_any_create(
    data: Any, problem: str, require_all: bool, requests_mock: Any
) -> None:
    error = render_with_answer(requests_mock, {"data": data}, require_all=require_all)

    text = str(error)
    assert problem in text, text
    assert "GET /v3/templates/tpl-1" in text and "nothing was rendered" in text


def test_a_row_with_variables_is_told_the_answer_is_the_problem(requests_mock: Any) -> None:
    error = render_with_answer(requests_mock, {"data": ["odd"]}, variables={"first_name": "Grace"})

    assert "data is a list, not an object" in str(error)


def test_every_problem_is_named_but_none_echoes_the_answer(requests_mock: Any) -> None:
    data = {"variables": {"a": API_KEY, "b": [API_KEY]}, "scenes": API_KEY}

    text = str(render_with_answer(requests_mock, {"data": data}))

    assert "variables.a is text" in text and "variables.b is a list" in text and "scenes is text" in text
    assert API_KEY not in text


def test_a_readable_answer_still_renders(requests_mock: Any) -> None:
    """The control: a template without variables (the key absent) renders; a list of named variables reads."""
    requests_mock.get(TEMPLATE_URL, [{"json": {"data": {"id": "tpl-1", "name": "Plain"}}}])
    requests_mock.post(TEMPLATE_URL, json=v3_created_body("vid-1"))
    requests_mock.get(f"{BASE_URL}/v3/videos/vid-1", json=v3_video_body("vid-1", "processing"))
    operator = HeyGenTemplateVideoOperator(
        task_id="render", template_id="tpl-1", variables={}, deferrable=False, wait_for_completion=False
    )

    operator.execute(StateStoreTries().context())

    assert [request.method for request in requests_mock.request_history].count("POST") == 1


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.integers().map(str),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
NOT_AN_OBJECT = JSON.filter(lambda value: not isinstance(value, dict))
NOT_AN_ENTRY_LIST = JSON.filter(lambda value: not isinstance(value, (dict, list)))
UNREADABLE_DATA = st.one_of(
    NOT_AN_OBJECT,
    st.builds(lambda variables: {"id": "tpl-1", "variables": variables}, NOT_AN_ENTRY_LIST),
    st.builds(
        lambda name, entry, good: {"id": "tpl-1", "variables": {**good, name: entry}},
        st.text(min_size=1, max_size=8),
        NOT_AN_OBJECT,
        st.just({"first_name": FIRST_NAME}) | st.just({}),
    ),
    st.builds(
        lambda entries, entry, position: {
            "id": "tpl-1",
            "variables": [*entries[:position], entry, *entries[position:]],
        },
        st.lists(st.just(FIRST_NAME), max_size=2),
        st.one_of(
            NOT_AN_OBJECT,
            st.dictionaries(st.sampled_from(["type", "properties", "name"]), JSON_SCALARS).filter(
                lambda entry: not (isinstance(entry.get("name"), str) and entry["name"])
            ),
        ),
        st.integers(min_value=0, max_value=2),
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=UNREADABLE_DATA, require_all=st.booleans())
def test_no_odd_shape_leads_to_a_create(data: Any, require_all: bool) -> None:
    import requests_mock

    with requests_mock.Mocker() as http:
        error = render_with_answer(http, {"data": data}, require_all=require_all)

    assert "cannot be read" in str(error) and "nothing was rendered" in str(error)
