"""Authentication: X-Api-Key, OAuth Bearer tokens and HeyGen's real 401 body."""

from __future__ import annotations

import httpx
import pytest

from heygen_provider.testing.emulator import DEFAULT_API_KEY, HeyGenEmulator, fingerprint

from .helpers import GENERATE, video_body

UNAUTHORIZED = {"code": 400112, "message": "Unauthorized"}


def test_default_key_is_the_documented_one(heygen_emulator: HeyGenEmulator) -> None:
    assert heygen_emulator.api_key == DEFAULT_API_KEY == "heygen-emulator-key"


def test_x_api_key_is_accepted(api: httpx.Client) -> None:
    assert api.get("/v2/user/remaining_quota").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Api-Key": "wrong-key"},
        {"X-Api-Key": ""},
        # HeyGen takes API keys only in X-Api-Key: a key sent as a Bearer token is refused.
        {"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        {"Authorization": f"Basic {DEFAULT_API_KEY}"},
    ],
    ids=["missing", "wrong", "empty", "api-key-as-bearer", "basic"],
)
def test_refused_credentials_get_heygens_401_body(anonymous: httpx.Client, headers: dict[str, str]) -> None:
    answer = anonymous.post(GENERATE, json=video_body(), headers=headers)
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


def test_configured_bearer_token_is_accepted(heygen_emulator: HeyGenEmulator, anonymous: httpx.Client) -> None:
    heygen_emulator.update_settings(bearer_tokens=["oauth-token-1"])
    answer = anonymous.get("/v2/voices", headers={"Authorization": "Bearer oauth-token-1"})
    assert answer.status_code == 200
    assert anonymous.get("/v2/voices", headers={"Authorization": "Bearer other"}).status_code == 401


def test_extra_api_keys_can_be_configured(heygen_emulator: HeyGenEmulator, anonymous: httpx.Client) -> None:
    heygen_emulator.update_settings(api_keys=["team-key"])
    assert anonymous.get("/v2/avatars", headers={"X-Api-Key": "team-key"}).status_code == 200
    assert anonymous.get("/v2/avatars", headers={"X-Api-Key": DEFAULT_API_KEY}).status_code == 401


def test_log_records_auth_outcome_and_a_fingerprint_never_the_key(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    api.get("/v2/avatars")
    anonymous.get("/v2/avatars", headers={"X-Api-Key": "not-the-key"})
    anonymous.get("/v2/avatars")
    accepted, refused, missing = heygen_emulator.requests(path="/v2/avatars")
    assert (accepted.authenticated, accepted.status) == (True, 200)
    assert accepted.credential == "x-api-key"
    assert accepted.key_fingerprint == fingerprint(DEFAULT_API_KEY)
    assert (refused.authenticated, refused.status) == (False, 401)
    assert refused.key_fingerprint == fingerprint("not-the-key")
    assert (missing.authenticated, missing.credential, missing.key_fingerprint) == (False, None, None)
    for entry in (accepted, refused):
        assert DEFAULT_API_KEY not in repr(entry) and "not-the-key" not in repr(entry)


def test_admin_api_needs_no_key_and_is_not_logged(heygen_emulator: HeyGenEmulator, anonymous: httpx.Client) -> None:
    health = anonymous.get("/_emulator/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert heygen_emulator.requests() == []
