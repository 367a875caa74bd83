"""
The API key never leaks: real ``dag.test()`` runs against the emulator with a recognisable key, and every
place a key could end up is searched for it.

Searched: the task and trigger log files of the run, everything written to stdout/stderr and the log
records, XCom, the trigger's serialized kwargs and repr (and any trigger row left in the database),
rendered template fields, the text and traceback of every exception the task raised, and the emulator's
request log (media downloads must carry no credential at all).
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.testing.emulator import HeyGenEmulator, fingerprint
from tests.integration.conftest import task_states
from tests.reliability.conftest import TaskErrors

pytestmark = pytest.mark.integration

#: Recognisable, so finding it anywhere is never a coincidence.
LEAK_KEY = "sk-LEAKCHECK-4f9a2c7e1b8d6035"
#: A key HeyGen refuses (401), just as recognisable: a refused key must not leak either.
WRONG_KEY = "sk-LEAKCHECK-WRONG-93b1e0d7c2a4"


@pytest.fixture
def serialized_triggers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``(json of serialize(), repr)`` of every trigger the generate operator deferred to."""
    seen: list[tuple[str, str]] = []
    original = HeyGenGenerateVideoOperator.defer

    def defer(self: Any, *, trigger: Any, **kwargs: Any) -> Any:
        seen.append((json.dumps(trigger.serialize()), repr(trigger)))
        return original(self, trigger=trigger, **kwargs)

    monkeypatch.setattr(HeyGenGenerateVideoOperator, "defer", defer)
    return seen


def disable_airflow_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Turn off Airflow's secrets masker, which redacts a connection's password from logs and rendered
    fields: with it off, any key found was emitted by the provider, not caught by Airflow.
    """
    import importlib

    for module_name in (
        "airflow.sdk._shared.secrets_masker.secrets_masker",
        "airflow._shared.secrets_masker.secrets_masker",
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        monkeypatch.setattr(module.SecretsMasker, "add_mask", lambda self, secret, name=None: None)
        masker = module._secrets_masker()
        monkeypatch.setattr(masker, "patterns", set())
        monkeypatch.setattr(masker, "replacer", None)


def run_log_files(dag_run: Any) -> list[Path]:
    """
    The log files of this run's task instances (trigger logs included) under ``$AIRFLOW_HOME/logs``.
    ``dag.test()`` writes none (it logs to the console, captured here), a deployment does.
    """
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    return [path for path in logs.rglob("*") if path.is_file() and f"run_id={dag_run.run_id}" in str(path)]


def stored_values(dag_run: Any) -> dict[str, str]:
    """XComs, rendered template fields and trigger rows of the run, as text, straight from the database."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.scalars(select(XComModel).where(XComModel.run_id == dag_run.run_id)).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(RenderedTaskInstanceFields.run_id == dag_run.run_id)
        ).all()
        triggers = session.scalars(select(Trigger)).all()
        return {
            "xcom": json.dumps([(xcom.key, xcom.value) for xcom in xcoms], default=str),
            "rendered template fields": json.dumps([row.rendered_fields for row in rendered], default=str),
            "trigger rows": json.dumps([(row.classpath, row.kwargs) for row in triggers], default=str),
        }


def exception_texts(errors: TaskErrors) -> str:
    texts = []
    for error in errors.errors:
        texts.append("".join(traceback.format_exception(error)))
        texts.extend(repr(item) for item in (error, error.__cause__, error.__context__) if item is not None)
    return "\n".join(texts)


SCENARIOS = {
    "success-with-transient-poll-faults": ("rel_generate_and_download", "emulator:poll=server_error*2", LEAK_KEY),
    "failed-render": ("rel_generate", "emulator:fail", LEAK_KEY),
    "refused-key-401": ("rel_generate", "reliability test", WRONG_KEY),
    "blocking-mode": ("rel_generate_blocking", "emulator:poll=reset", LEAK_KEY),
}


@pytest.mark.parametrize(
    ("scenario", "airflow_masking"),
    [*((scenario, False) for scenario in SCENARIOS), ("success-with-transient-poll-faults", True)],
    ids=[*(f"{scenario}-masker-off" for scenario in SCENARIOS), "success-with-transient-poll-faults-masker-on"],
)
@pytest.mark.usefixtures("fast_backoff")
def test_the_key_appears_nowhere(
    scenario: str,
    airflow_masking: bool,
    emulator: HeyGenEmulator,
    run_dag: Any,
    task_errors: TaskErrors,
    serialized_triggers: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    dag_id, title, key = SCENARIOS[scenario]
    if not airflow_masking:
        disable_airflow_masking(monkeypatch)
    emulator.update_settings(api_keys=[LEAK_KEY])
    connection = emulator.airflow_connection()
    connection = type(connection)(connection.conn_id, connection.host, key, connection.extra)
    for name, value in connection.env().items():
        monkeypatch.setenv(name, value)

    dag_run = run_dag(dag_id, title=title, **({"output": tmp_path.as_uri()} if "download" in dag_id else {}))

    expect_success = key == LEAK_KEY and "fail" not in title
    assert (str(dag_run.state) == "success") == expect_success, (task_states(dag_run), task_errors.errors)
    # The key was really used: the emulator saw it (as a fingerprint; its log never holds the key).
    api_calls = [entry for entry in emulator.requests() if not entry.path.startswith("/media/")]
    assert api_calls and all(entry.key_fingerprint == fingerprint(key) for entry in api_calls)

    captured = capfd.readouterr()
    logs = run_log_files(dag_run)
    places = {
        "stdout": captured.out,
        "stderr": captured.err,
        "log records": caplog.text,
        **{f"log file {path.name}": path.read_text(errors="replace") for path in logs},
        **stored_values(dag_run),
        "serialized trigger kwargs and repr": json.dumps(serialized_triggers),
        "exceptions": exception_texts(task_errors),
        "operator results": json.dumps(task_errors.results, default=str),
        "emulator request log": json.dumps([entry.to_dict() for entry in emulator.requests()], default=str),
    }
    leaks = [place for place, text in places.items() if key in text or key[8:] in text]
    assert leaks == [], f"the API key leaked into: {leaks}"

    # Not a vacuous search: the places hold the run's task and trigger output. dag.test() runs both in
    # this process and logs them to the console; log files (when a deployment writes them) are searched too.
    console = captured.out + captured.err + caplog.text + "".join(path.read_text(errors="replace") for path in logs)
    assert "Submitted HeyGen video" in console or "HeyGen API error" in console, "no task output captured"
    if dag_id != "rel_generate_blocking" and key == LEAK_KEY:
        assert f"HeyGen video {api_calls[0].video_id} is" in console, "no trigger output captured"
        assert serialized_triggers
        assert api_calls[0].video_id in places["xcom"], "XCom of the run was read"
    assert "Reliability is a feature." in places["rendered template fields"], "rendered fields of the run were read"
    if not expect_success:
        assert task_errors.errors and str(task_errors.last)
    media = [entry for entry in emulator.requests() if entry.path.startswith("/media/")]
    if "download" in dag_id:
        assert media, "the run downloaded the video"
        assert all(entry.credential is None and entry.key_fingerprint is None for entry in media), (
            "media downloads go to the CDN without the API key"
        )


#: A key whose URL-encoded forms differ from it (base64 keys carry ``+``, ``/`` and ``=``).
ENCODABLE_KEY = "sk-LEAKCHECK+9f/3a=c 2e=="


@pytest.mark.parametrize(
    "echo",
    [
        lambda key: quote(key, safe=""),
        quote,
        quote_plus,
        lambda key: quote(key, safe="").lower(),
    ],
    ids=["quote-safe-none", "quote", "quote-plus", "quote-lowercase-hex"],
)
@pytest.mark.parametrize("shape", ["json", "html"])
def test_an_url_encoded_key_echoed_in_an_error_body_is_blanked(
    echo: Any, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests_mock

    from heygen_provider.exceptions import HeyGenAuthenticationError
    from heygen_provider.hooks.heygen import HeyGenHook

    connection = {
        "conn_type": "heygen",
        "host": "https://api.heygen.com",
        "password": ENCODABLE_KEY,
        "extra": {"api_version": "legacy"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", json.dumps(connection))
    echoed = echo(ENCODABLE_KEY)
    assert echoed != ENCODABLE_KEY
    text = f"no such key: {echoed} (from /v1/video_status.get?key={echoed})"
    body = json.dumps({"code": 400112, "message": text}) if shape == "json" else f"<h1>{text}</h1>"
    with requests_mock.Mocker() as http:
        http.get("https://api.heygen.com/v1/video_status.get", status_code=401, text=body)
        with pytest.raises(HeyGenAuthenticationError) as refused:
            HeyGenHook().get_video_status("v1")
    message = str(refused.value)
    assert "no such key: ***" in message, message
    assert echoed not in message and echoed.upper() not in message
    assert "LEAKCHECK" not in message
