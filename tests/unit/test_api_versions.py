"""HeyGen's APIs, one class each: the connection's ``api_version`` picks the class that knows that API."""

from __future__ import annotations

import pytest

from heygen_provider.api_versions import API_BY_VERSION, LEGACY, V3, HeyGenApi, LegacyApi, V3Api
from heygen_provider.exceptions import HeyGenLegacyApiRetiredError, HeyGenNotFoundError
from heygen_provider.vocabulary import API_VERSIONS


def test_every_api_version_has_its_own_class_named_as_the_version() -> None:
    assert set(API_BY_VERSION) == set(API_VERSIONS)
    assert {name: api.name for name, api in API_BY_VERSION.items()} == {name: name for name in API_VERSIONS}
    assert type(API_BY_VERSION["v3"]) is V3Api
    assert type(API_BY_VERSION["legacy"]) is LegacyApi


def test_the_base_class_is_no_api_of_its_own() -> None:
    with pytest.raises(TypeError, match="abstract"):
        HeyGenApi(  # type: ignore[abstract]
            name="v3",
            create_video="/x",
            video_status="/x",
            avatars="/x",
            voices="/x",
            account="/x",
            idempotent_creates=False,
        )


@pytest.mark.parametrize("api", [V3, LEGACY], ids=["v3", "legacy"])
def test_another_status_path_keeps_the_apis_own_rules(api: HeyGenApi) -> None:
    """The deprecated ``video_status_path`` extra changes one path, not which API's rules apply."""
    moved = api.with_status_path("/custom/status")
    assert type(moved) is type(api)
    assert moved.status_request("vid-1")[0] == "/custom/status"
    assert moved.create_video == api.create_video


def test_only_the_legacy_api_reads_a_404_on_its_create_path_as_retirement() -> None:
    refused = HeyGenNotFoundError("gone", status_code=404)
    assert isinstance(LEGACY.explain(refused, LEGACY.create_video), HeyGenLegacyApiRetiredError)
    with_custom_status_path = LEGACY.with_status_path("/custom")
    assert isinstance(with_custom_status_path.explain(refused, LEGACY.create_video), HeyGenLegacyApiRetiredError)
    assert V3.explain(refused, V3.create_video) is refused
