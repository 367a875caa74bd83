"""
Values from upstream tasks are data, never templates, in every templated field of every operator.

A row title ``{{ conn.heygen_default.password }}`` (a CSV a customer filled in) must reach HeyGen as
written, not as the API key; ``Q3 {{ 6*7 }}`` stays ``Q3 {{ 6*7 }}``, and an XCom value ending in
``.json`` is not a template file's name. Literal strings written in the DAG file stay templates.

These tests render through Airflow's own code (``MappedOperator.render_template_fields`` for
``expand``/``expand_kwargs``/mapped task groups, ``BaseOperator.render_template_fields`` for XComArgs,
nested ones included), with the XComs served by a fake task instance; the request they lead to is
checked at the HTTP boundary (requests-mock). A real ``dag.test()`` run against the emulator is in
``test_data_is_not_a_template_in_a_dag_run.py``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.operators.template import HeyGenTemplateVideoOperator
from heygen_provider.sensors.heygen import HeyGenVideoSensor
from tests.fixtures.answers import v3_created_body, v3_video_body
from tests.fixtures.connections import API_KEY, BASE_URL, connection_json
from tests.fixtures.operators import StateStoreTries
from tests.fixtures.scenes import scene

CONN_ENV = "AIRFLOW_CONN_HEYGEN_DEFAULT"
#: What a customer may type into a row: each would leak or change data if rendered.
HOSTILE = [
    "{{ conn.heygen_default.password }}",
    "Q3 {{ 6*7 }}",
    "{% for x in range(3) %}{{ x }}{% endfor %}",
    "{{ undefined_name }}",
    "{{",
    "{# comment #} kept",
    "{{ 6*7 }}.json",
]
SCENES_FILE = "scenes.json"


@dataclass
class XComTI:
    """The task instance Airflow's XComArg and expand-input resolution read: map index and XComs."""

    xcoms: dict[Any, Any]
    map_index: int = -1
    dag_id: str = "data_dag"
    task_id: str = "render"
    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    try_number: int = 1
    task: Any = None
    _upstream_map_indexes: dict[str, Any] = field(default_factory=dict)

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms[task_ids if key == "return_value" else (task_ids, key)]


def render(task: Any, xcoms: dict[Any, Any], map_index: int = 0) -> Any:
    """
    Render ``task`` as Airflow does on the worker, upstream XComs served by ``xcoms``; the operator that runs.

    The context offers ``conn`` (the key behind ``conn.heygen_default.password``) and the run's conf, so
    a value that did get rendered shows it.
    """
    is_mapped = getattr(task, "is_mapped", False) or task.get_closest_mapped_task_group() is not None
    ti = XComTI(xcoms, map_index=map_index if is_mapped else -1)
    context: dict[str, Any] = {
        "ti": ti,
        "dag": task.dag,
        "dag_run": SimpleNamespace(conf={"name": "Ada"}),
        "params": {},
        "run_id": ti.run_id,
        "conn": SimpleNamespace(heygen_default=SimpleNamespace(password=API_KEY)),
        "task": task,
    }
    runnable = task.prepare_for_execution()
    runnable.render_template_fields(context)
    return context["task"] if getattr(task, "is_mapped", False) else runnable


def dag(template_folder: Path | None = None) -> Any:
    from airflow.sdk import DAG

    return DAG(
        dag_id="data_dag",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        template_searchpath=[str(template_folder)] if template_folder else None,
    )


def upstream(task_id: str = "rows") -> Any:
    """An upstream task whose XCom the test serves; its ``output`` is the XComArg to map over."""
    from airflow.sdk import task

    @task(task_id=task_id)
    def rows() -> Any:
        raise AssertionError("served by the fake task instance, never run")

    return rows()


# -- every operator, every way of handing it upstream data ---------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A DAG shape: ``build`` returns the task to render; the XCom named ``rows`` feeds ``fields``."""

    build: Callable[[Any], Any]
    xcom: Callable[[Any], Any]
    fields: Callable[[Any], dict[str, Any]]


def _generate_expand_kwargs(value: Any) -> Any:
    return HeyGenGenerateVideoOperator.partial(task_id="render").expand_kwargs(upstream())


def _generate_expand(value: Any) -> Any:
    return HeyGenGenerateVideoOperator.partial(task_id="render", video_inputs=[scene()]).expand(title=upstream())


def _generate_partial_and_nested(value: Any) -> Any:
    rows = upstream()
    return HeyGenGenerateVideoOperator.partial(
        task_id="render", video_inputs=[scene(rows["text"])], callback_id=rows["callback"]
    ).expand(title=["literal title"])


def _generate_unmapped_nested(value: Any) -> Any:
    rows = upstream()
    return HeyGenGenerateVideoOperator(
        task_id="render",
        title=rows["title"],
        video_inputs=[scene(rows["text"])],
        extra_fields={"brand_note": rows["note"]},
    )


def _generate_in_mapped_task_group(value: Any) -> Any:
    from airflow.sdk import task_group

    built: list[Any] = []

    @task_group
    def row(title: Any, video_inputs: Any) -> None:
        built.append(HeyGenGenerateVideoOperator(task_id="render", title=title, video_inputs=video_inputs))

    row.expand_kwargs(upstream())
    return built[0]


def _generate_expand_kwargs_mapped_rows(value: Any) -> Any:
    return HeyGenGenerateVideoOperator.partial(task_id="render").expand_kwargs(upstream().map(dict))


def _generate_expand_kwargs_list_of_xcom_rows(value: Any) -> Any:
    return HeyGenGenerateVideoOperator.partial(task_id="render").expand_kwargs([upstream()])


def _template_expand(value: Any) -> Any:
    return HeyGenTemplateVideoOperator.partial(task_id="render", template_id="tpl-1").expand(variables=upstream())


def _template_expand_kwargs(value: Any) -> Any:
    return HeyGenTemplateVideoOperator.partial(task_id="render", template_id="tpl-1").expand_kwargs(upstream())


def _download_expand_kwargs(value: Any) -> Any:
    return HeyGenDownloadVideoOperator.partial(task_id="store").expand_kwargs(upstream())


def _sensor_expand(value: Any) -> Any:
    return HeyGenVideoSensor.partial(task_id="wait").expand(video_id=upstream())


CASES: dict[str, Case] = {
    "generate expand_kwargs": Case(
        _generate_expand_kwargs,
        lambda value: [
            {
                "title": value,
                "callback_id": value,
                "video_inputs": [scene(value)],
                "extra_fields": {"brand_note": value},
                "motion_prompt": value,
            }
        ],
        lambda value: {
            "title": value,
            "callback_id": value,
            "video_inputs": [scene(value)],
            "extra_fields": {"brand_note": value},
            "motion_prompt": value,
        },
    ),
    "generate expand_kwargs over .map()": Case(
        _generate_expand_kwargs_mapped_rows,
        lambda value: [{"title": value, "video_inputs": [scene(value)]}],
        lambda value: {"title": value, "video_inputs": [scene(value)]},
    ),
    "generate expand_kwargs over a list of XComArgs": Case(
        _generate_expand_kwargs_list_of_xcom_rows,
        lambda value: {"title": value, "video_inputs": [scene(value)]},
        lambda value: {"title": value, "video_inputs": [scene(value)]},
    ),
    "generate expand": Case(_generate_expand, lambda value: [value], lambda value: {"title": value}),
    "generate partial with nested XComArgs": Case(
        _generate_partial_and_nested,
        lambda value: {"text": value, "callback": value},
        lambda value: {"video_inputs": [scene(value)], "callback_id": value, "title": "literal title"},
    ),
    "generate unmapped with nested XComArgs": Case(
        _generate_unmapped_nested,
        lambda value: {"title": value, "text": value, "note": value},
        lambda value: {"title": value, "video_inputs": [scene(value)], "extra_fields": {"brand_note": value}},
    ),
    "generate in a mapped task group": Case(
        _generate_in_mapped_task_group,
        lambda value: [{"title": value, "video_inputs": [scene(value)]}],
        lambda value: {"title": value, "video_inputs": [scene(value)]},
    ),
    "template expand": Case(
        _template_expand, lambda value: [{"first_name": value}], lambda value: {"variables": {"first_name": value}}
    ),
    "template expand_kwargs": Case(
        _template_expand_kwargs,
        lambda value: [{"variables": {"first_name": value}, "title": value, "callback_id": value}],
        lambda value: {"variables": {"first_name": value}, "title": value, "callback_id": value},
    ),
    "download expand_kwargs": Case(
        _download_expand_kwargs,
        lambda value: [{"video_id": value, "destination": value, "file_stem": value, "video": {"title": value}}],
        lambda value: {"video_id": value, "destination": value, "file_stem": value, "video": {"title": value}},
    ),
    "sensor expand": Case(_sensor_expand, lambda value: [value], lambda value: {"video_id": value}),
}


def _xcoms_for(case: Case, value: Any) -> dict[Any, Any]:
    served = case.xcom(value)
    xcoms: dict[Any, Any] = {"rows": served}
    if isinstance(served, dict):
        # The unmapped cases read single keys of a multiple-outputs XCom.
        xcoms.update({("rows", key): item for key, item in served.items()})
    return xcoms


@functools.cache
def _built(name: str) -> Any:
    with dag():
        return CASES[name].build(None)


def rendered_fields(name: str, value: Any) -> dict[str, Any]:
    case = CASES[name]
    task = render(_built(name), _xcoms_for(case, value))
    return {field_name: getattr(task, field_name) for field_name in case.fields(value)}


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", list(CASES))
def test_upstream_values_reach_every_field_unrendered(name: str, value: str) -> None:
    assert rendered_fields(name, value) == CASES[name].fields(value)


#: Text with Jinja's syntax mixed into arbitrary characters.
JINJA_TEXT = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", " 6*7 ", "conn.heygen_default.password", ".json", "\n"]),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JINJA_TEXT, name=st.sampled_from(list(CASES)))
def test_any_text_from_upstream_stays_byte_identical(value: str, name: str) -> None:
    rendered = rendered_fields(name, value)

    assert json.dumps(rendered, sort_keys=True) == json.dumps(CASES[name].fields(value), sort_keys=True)


# -- the .json template-file rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["expand_kwargs", "expand", "XComArg"])
def test_an_upstream_value_ending_in_json_is_not_a_template_file(shape: str, tmp_path: Path) -> None:
    (tmp_path / SCENES_FILE).write_text(json.dumps([scene("read from the file {{ 6*7 }}")]))
    with dag(tmp_path):
        rows = upstream()
        if shape == "expand_kwargs":
            task = HeyGenGenerateVideoOperator.partial(task_id="render").expand_kwargs(rows)
            xcom: Any = [{"video_inputs": SCENES_FILE, "extra_fields": SCENES_FILE, "title": SCENES_FILE}]
        elif shape == "expand":
            task = HeyGenGenerateVideoOperator.partial(task_id="render").expand(
                video_inputs=rows, extra_fields=upstream("fields")
            )
            xcom = [SCENES_FILE]
        else:
            task = HeyGenGenerateVideoOperator(
                task_id="render", video_inputs=rows, extra_fields=upstream("fields"), title=SCENES_FILE
            )
            xcom = SCENES_FILE
    xcoms = {"rows": xcom, "fields": xcom}

    rendered = render(task, xcoms)

    assert (rendered.video_inputs, rendered.extra_fields) == (SCENES_FILE, SCENES_FILE)


def test_a_file_named_in_the_dag_is_still_a_template_file_beside_upstream_data(tmp_path: Path) -> None:
    (tmp_path / SCENES_FILE).write_text(json.dumps([scene("Hello {{ dag_run.conf.get('name') }}")]))
    with dag(tmp_path):
        mapped = HeyGenGenerateVideoOperator.partial(task_id="render", video_inputs=SCENES_FILE).expand(
            title=upstream()
        )

    task = render(mapped, {"rows": ["{{ 6*7 }}"]})

    assert json.loads(task.video_inputs) == [scene("Hello Ada")]
    assert task.title == "{{ 6*7 }}"


# -- what is written in the DAG file stays a template --------------------------------------------------------


def test_literal_strings_beside_upstream_data_are_still_rendered() -> None:
    with dag():
        rows = upstream()
        mapped = HeyGenGenerateVideoOperator.partial(
            task_id="render",
            video_inputs=[scene("Hello {{ dag_run.conf.get('name') }}"), scene(rows["text"])],
            title="Hello {{ dag_run.conf.get('name') }}, {{ 6*7 }}",
        ).expand(callback_id=["literal-{{ 6*7 }}"])

    task = render(mapped, {"rows": {}, ("rows", "text"): "{{ 6*7 }}"})

    assert task.title == "Hello Ada, 42"
    assert task.callback_id == "literal-42", "a list written in the DAG file is a template, as in Airflow"
    assert task.video_inputs == [scene("Hello Ada"), scene("{{ 6*7 }}")]


def test_literal_rows_partial_xcom_args_and_default_args_beside_upstream_rows() -> None:
    """What the DAG file writes renders; an XComArg written in partial() resolves unrendered."""
    from airflow.sdk import DAG

    with DAG(
        dag_id="data_dag",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        default_args={"heygen_conn_id": "{{ 'heygen_' ~ 'default' }}"},
    ):
        rows = upstream()
        written = {"title": "Written {{ 6*7 }}", "video_inputs": [scene("Hi {{ dag_run.conf.get('name') }}")]}
        mapped = HeyGenGenerateVideoOperator.partial(task_id="render", callback_id=rows["callback"]).expand_kwargs(
            [written, upstream("one_row")]
        )
    xcoms = {
        "rows": {},
        ("rows", "callback"): "{{ 6*7 }}",
        "one_row": {"title": "{{ 6*7 }}", "video_inputs": [scene("{{ 6*7 }}")]},
    }

    literal, from_upstream = (render(mapped, xcoms, map_index=index) for index in (0, 1))

    assert (literal.title, literal.video_inputs) == ("Written 42", [scene("Hi Ada")])
    assert (from_upstream.title, from_upstream.video_inputs) == ("{{ 6*7 }}", [scene("{{ 6*7 }}")])
    assert literal.callback_id == from_upstream.callback_id == "{{ 6*7 }}"
    assert literal.heygen_conn_id == from_upstream.heygen_conn_id == "heygen_default"


def test_map_index_template_shows_the_title_as_data() -> None:
    with dag():
        mapped = HeyGenGenerateVideoOperator.partial(
            task_id="render", video_inputs=[scene()], map_index_template="{{ task.title }}"
        ).expand(title=upstream())
    task = render(mapped, {"rows": ["{{ conn.heygen_default.password }}"]})
    environment = task.get_template_env()

    shown = environment.from_string(task.map_index_template).render(task=task, conn=None)

    assert shown == "{{ conn.heygen_default.password }}"


# -- at the HTTP boundary: what HeyGen receives, what XCom stores ---------------------------------------------


@pytest.fixture
def v3_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONN_ENV, connection_json())


@pytest.mark.usefixtures("v3_connection")
@pytest.mark.parametrize("title", ["{{ conn.heygen_default.password }}", "Q3 {{ 6*7 }}"])
def test_a_mapped_row_title_reaches_heygen_verbatim_and_the_key_is_nowhere(title: str, requests_mock: Any) -> None:
    requests_mock.post(f"{BASE_URL}/v3/videos", json=v3_created_body("vid-1"))
    requests_mock.get(
        f"{BASE_URL}/v3/videos/vid-1",
        json={"data": {"id": "vid-1", "status": "completed", "video_url": "https://files.heygen.ai/vid-1.mp4"}},
    )
    with dag():
        mapped = HeyGenGenerateVideoOperator.partial(
            task_id="render", deferrable=False, poll_interval=0.01
        ).expand_kwargs(upstream())
    task = render(mapped, {"rows": [{"title": title, "video_inputs": [scene(f"Say {title}")]}]})
    run = StateStoreTries().context()

    result = task.execute(run)

    [post] = [request for request in requests_mock.request_history if request.method == "POST"]
    body = json.loads(post.body)
    assert body["title"] == title
    assert body["script"] == f"Say {title}"
    assert result["title"] == title
    stored = json.dumps([result, run["ti"].pushed], default=str)
    sent = json.dumps([request.text for request in requests_mock.request_history])
    assert API_KEY not in stored + sent


@pytest.mark.usefixtures("v3_connection")
def test_a_template_row_from_upstream_reaches_heygen_verbatim(requests_mock: Any) -> None:
    template_url = f"{BASE_URL}/v3/templates/tpl-1"
    requests_mock.get(
        template_url,
        json={"data": {"id": "tpl-1", "variables": {"first_name": {"name": "first_name", "type": "text"}}}},
    )
    requests_mock.post(template_url, json=v3_created_body("vid-1"))
    requests_mock.get(f"{BASE_URL}/v3/videos/vid-1", json=v3_video_body("vid-1", "processing"))
    with dag():
        mapped = HeyGenTemplateVideoOperator.partial(
            task_id="render", template_id="tpl-1", wait_for_completion=False
        ).expand_kwargs(upstream())
    row = {"variables": {"first_name": "{{ conn.heygen_default.password }}"}, "title": "Q3 {{ 6*7 }}"}
    task = render(mapped, {"rows": [row]})

    task.execute(StateStoreTries().context())

    [post] = [request for request in requests_mock.request_history if request.method == "POST"]
    body = json.loads(post.body)
    assert body["variables"]["first_name"]["properties"]["content"] == "{{ conn.heygen_default.password }}"
    assert body["title"] == "Q3 {{ 6*7 }}"
    assert API_KEY not in post.text
