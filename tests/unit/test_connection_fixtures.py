"""The tests' connections are v3 unless a test is marked ``legacy``: the marker alone finds the legacy cases."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.connections import connection_json


def test_a_connection_is_on_the_providers_default_v3() -> None:
    assert "api_version" not in json.loads(connection_json()).get("extra", {})


@pytest.mark.legacy
def test_a_connection_in_a_legacy_test_is_legacy() -> None:
    assert json.loads(connection_json())["extra"]["api_version"] == "legacy"


@pytest.mark.legacy
def test_an_explicit_api_version_wins_over_the_marker() -> None:
    assert "extra" not in json.loads(connection_json(api_version=None))
    assert json.loads(connection_json(api_version="v3"))["extra"]["api_version"] == "v3"
