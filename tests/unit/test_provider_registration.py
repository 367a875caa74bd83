"""Airflow finds the provider through its entry point, with the ``heygen`` connection type and hook."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import airflow
import jsonschema
import pytest
from airflow.providers_manager import ProvidersManager

from heygen_provider.connection import CONNECTION_EXTRA_FIELDS, UI_FIELD_BEHAVIOUR
from heygen_provider.get_provider_info import get_provider_info

PACKAGE = "airflow-provider-heygen"
HOOK_CLASS = "heygen_provider.hooks.heygen.HeyGenHook"


@pytest.fixture(scope="module")
def providers_manager() -> ProvidersManager:
    return ProvidersManager()


def hooks_registry(providers_manager: ProvidersManager) -> Any:
    """The connection-type registry: the task SDK's on Airflow 3.2+, the ProvidersManager's on 3.1."""
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:
        return providers_manager.hooks
    return ProvidersManagerTaskRuntime().hooks


def heygen_connection_type(info: dict[str, Any]) -> dict[str, Any]:
    (connection_type,) = [c for c in info["connection-types"] if c["connection-type"] == "heygen"]
    return connection_type


class TestEntryPoint:
    def test_entry_point_names_get_provider_info(self) -> None:
        (entry_point,) = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("heygen")]
        assert entry_point.load() is get_provider_info


class TestProvidersManager:
    def test_lists_the_provider(self, providers_manager: ProvidersManager) -> None:
        provider = providers_manager.providers[PACKAGE]
        assert provider.data["package-name"] == PACKAGE
        assert provider.version == get_provider_info()["versions"][0]

    def test_lists_the_heygen_connection_type_and_its_hook(self, providers_manager: ProvidersManager) -> None:
        hook_info = hooks_registry(providers_manager)["heygen"]
        assert hook_info is not None
        assert (hook_info.hook_class_name, hook_info.package_name, hook_info.hook_name) == (
            HOOK_CLASS,
            PACKAGE,
            "HeyGen",
        )
        assert hook_info.connection_id_attribute_name == "heygen_conn_id"
        assert hook_info.connection_testable is True  # the UI's Test button calls test_connection()


class TestProviderInfo:
    def test_matches_airflows_provider_info_schema(self) -> None:
        schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
        schema = json.loads(schema_path.read_text())
        jsonschema.validate(get_provider_info(), schema)

    def test_declares_the_connection_type(self) -> None:
        connection_type = heygen_connection_type(get_provider_info())
        assert connection_type["hook-class-name"] == HOOK_CLASS
        assert connection_type["hook-name"] == "HeyGen"

    def test_declares_the_form_for_airflow_3_2_and_later(self) -> None:
        connection_type = heygen_connection_type(get_provider_info())
        assert connection_type["ui-field-behaviour"] == UI_FIELD_BEHAVIOUR
        assert connection_type["conn-fields"] == CONNECTION_EXTRA_FIELDS
        # In the order a user needs them; the deprecated video_status_path is not offered.
        assert list(connection_type["conn-fields"]) == [
            "api_version",
            "create_timeout",
            "request_timeout",
            "retry_attempts",
            "auth_type",
        ]

    @pytest.mark.parametrize(
        "name", ["request_timeout", "retry_attempts", "auth_type", "api_version", "create_timeout"]
    )
    def test_each_extra_field_has_a_valid_json_schema_and_default(self, name: str) -> None:
        field = CONNECTION_EXTRA_FIELDS[name]
        assert field["label"]
        jsonschema.Draft7Validator.check_schema(field["schema"])
        jsonschema.validate(field["schema"]["default"], field["schema"])

    def test_the_form_and_the_hook_agree(self) -> None:
        from heygen_provider.hooks.heygen import HeyGenHook

        declared = heygen_connection_type(get_provider_info())["ui-field-behaviour"]
        assert HeyGenHook.get_ui_field_behaviour() == {k.replace("-", "_"): v for k, v in declared.items()}

    def test_extra_link_is_declared(self) -> None:
        assert get_provider_info()["extra-links"] == [
            "heygen_provider.links.heygen.HeyGenVideoLink",
            "heygen_provider.links.heygen.StoredVideoLink",
            "heygen_provider.links.heygen.CampaignSummaryLink",
        ]
