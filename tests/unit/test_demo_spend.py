"""
``make demo`` never pays by accident: on a connection that is not on loopback it shows the estimate and
renders nothing until the user confirms. Tested with fake settings and requests-mock (which refuses
any request it was not told about): no real host is contacted.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from example_dags._demo import CONFIRM_VARIABLE, SpendDecision, _paid_run_budget, confirmed_by, spend_decision
from example_dags.heygen_data_to_video import dag as campaign
from tests.fixtures.connections import connection_json

REAL = SimpleNamespace(base_url="https://api.heygen.com")


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8765", "http://localhost:9000", "http://[::1]:8080"])
def test_the_emulator_on_loopback_is_free_with_or_without_confirmation(base_url: str) -> None:
    settings = SimpleNamespace(base_url=base_url)
    assert spend_decision(settings, confirmed=False) is SpendDecision.FREE
    assert spend_decision(settings, confirmed=True) is SpendDecision.FREE


def test_a_real_host_is_refused_until_confirmed() -> None:
    assert spend_decision(REAL, confirmed=False) is SpendDecision.REFUSE
    assert spend_decision(REAL, confirmed=True) is SpendDecision.CONFIRMED
    # A host that merely looks local by name is not loopback.
    assert spend_decision(SimpleNamespace(base_url="https://localhost.example.com"), confirmed=False) is (
        SpendDecision.REFUSE
    )


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [(True, None, True), (False, "yes", True), (False, "1", True), (False, "no", False), (False, None, False)],
)
def test_confirmation_is_the_flag_or_an_explicit_variable(flag: bool, value: str | None, expected: bool) -> None:
    environ = {} if value is None else {CONFIRM_VARIABLE: value}
    assert confirmed_by(flag, environ) is expected


@pytest.fixture
def real_connection(monkeypatch: pytest.MonkeyPatch, requests_mock: Any) -> Any:
    """A connection to HeyGen's real host, with every HTTP request refused by requests-mock."""
    monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection_json())
    return requests_mock


def test_without_confirmation_the_demo_prints_the_estimate_and_renders_nothing(
    real_connection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _paid_run_budget(campaign, confirmed=False, max_cost=None) is None

    printed = capsys.readouterr().out
    assert "Estimate: 4 videos" in printed and "Weekly figures: North" in printed
    assert "Not rendering: these renders are paid" in printed and "--confirm-spend" in printed
    assert real_connection.request_history == []


def test_confirmed_the_run_gets_the_estimate_with_a_margin_or_the_given_budget(real_connection: Any) -> None:
    budget = _paid_run_budget(campaign, confirmed=True, max_cost=None)
    assert budget is not None and 0 < budget < 20
    assert _paid_run_budget(campaign, confirmed=True, max_cost=3.0) == 3.0
    assert real_connection.request_history == []
