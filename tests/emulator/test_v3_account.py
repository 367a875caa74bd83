"""v3 account and catalogue endpoints, the retired-legacy switch, the schema data and the connection helper."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator, schema
from heygen_provider.testing.emulator.connection import airflow_connection

from .helpers import GENERATE, STATUS, V3_VIDEOS, create_v3, v3_body, v3_error, v3_video, video_body
from .test_cli import CLI, read_lines


def conforms(operation: str, payload: Any) -> None:
    assert schema.response_problems(operation, payload) == []


def test_users_me_reports_a_wallet_for_api_keys(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(remaining_quota=600.0)
    payload = api.get("/v3/users/me").json()
    conforms("UserMeGet", payload)
    data = payload["data"]
    assert (data["username"], data["billing_type"]) == ("heygen-emulator", "wallet")
    assert data["wallet"]["currency"] == "usd"
    assert data["wallet"]["remaining_balance"] == pytest.approx(600 * 0.0667, abs=0.01)
    assert data["subscription"] is None and data["usage_based"] is None
    heygen_emulator.update_settings(plan="enterprise")
    wallet = api.get("/v3/users/me").json()["data"]["wallet"]
    assert (wallet["currency"], wallet["remaining_balance"]) == ("credits", 10)


def test_users_me_reports_plan_credits_for_oauth_tokens(
    heygen_emulator: HeyGenEmulator, anonymous: httpx.Client
) -> None:
    heygen_emulator.update_settings(bearer_tokens=["oauth-1"], plan="free", remaining_quota=300.0)
    payload = anonymous.get("/v3/users/me", headers={"Authorization": "Bearer oauth-1"}).json()
    conforms("UserMeGet", payload)
    data = payload["data"]
    assert data["billing_type"] == "subscription" and data["wallet"] is None
    assert data["subscription"]["plan"] == "free"
    assert data["subscription"]["credits"]["premium_credits"]["remaining"] == 5


def test_voices_in_v3s_shape_with_filters_and_pages(api: httpx.Client) -> None:
    payload = api.get("/v3/voices").json()
    conforms("VoiceList", payload)
    assert payload["has_more"] is False
    voices = payload["data"]
    assert {voice["type"] for voice in voices} == {"public"}
    german = api.get("/v3/voices", params={"language": "German"}).json()["data"]
    assert [voice["name"] for voice in german] == ["Jonas - Calm"]
    assert api.get("/v3/voices", params={"type": "private"}).json()["data"] == []
    first = api.get("/v3/voices", params={"limit": 3}).json()
    rest = api.get("/v3/voices", params={"limit": 3, "token": first["next_token"]}).json()
    assert [voice["voice_id"] for voice in first["data"] + rest["data"]] == [voice["voice_id"] for voice in voices]


def test_avatar_looks_and_groups_in_v3s_shape(api: httpx.Client, anonymous: httpx.Client) -> None:
    looks = api.get("/v3/avatars/looks").json()
    conforms("AvatarLooksList", looks)
    by_type = {look["avatar_type"] for look in looks["data"]}
    assert by_type == {"studio_avatar", "photo_avatar"}
    photo = api.get("/v3/avatars/looks", params={"avatar_type": "photo_avatar"}).json()["data"]
    assert [look["id"] for look in photo] == ["emulator_photo_0001"]
    assert photo[0]["default_voice_id"] is None
    assert anonymous.get(looks["data"][0]["preview_image_url"]).status_code == 200
    # Every look id is an avatar_id POST /v3/videos takes.
    assert all("avatar_iv" in look["supported_api_engines"] for look in looks["data"])
    groups = api.get("/v3/avatars").json()
    conforms("AvatarList", groups)
    assert {group["id"] for group in groups["data"]} == {look["group_id"] for look in looks["data"]}
    daisy = api.get("/v3/avatars/looks", params={"group_id": "daisy_group"}).json()["data"]
    assert [look["id"] for look in daisy] == ["Daisy-inskirt-20220818"]
    assert api.get("/v3/avatars", params={"ownership": "private"}).json()["data"] == []
    assert v3_error(api.get("/v3/avatars/looks", params={"limit": "51"}), 400)["param"] == "limit"


# The retired legacy API ---------------------------------------------------------------------------

LEGACY_CALLS = [
    ("POST", GENERATE),
    ("POST", "/v2/video/av4/generate"),
    ("GET", STATUS),
    ("GET", "/v2/avatars"),
    ("GET", "/v2/voices"),
    ("GET", "/v2/user/remaining_quota"),
    ("GET", "/v1/user/me"),
]


def test_retired_legacy_paths_answer_an_html_404(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    legacy_video = create_v3(api)
    heygen_emulator.retire_legacy_api()
    assert heygen_emulator.current_settings()["legacy_retired"] is True
    for method, path in LEGACY_CALLS:
        answer = api.request(method, path, json=video_body() if method == "POST" else None)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "Not Found" in answer.text and "error" not in answer.text
    # Without a key too: the route is gone, authentication never runs.
    assert httpx.get(heygen_emulator.base_url + STATUS, trust_env=False).status_code == 404
    assert heygen_emulator.videos()[0]["video_id"] == legacy_video
    # v3 keeps working, media too.
    video_id = create_v3(api)
    assert httpx.get(v3_video(api, video_id)["video_url"], trust_env=False).status_code == 200
    assert [entry.status for entry in heygen_emulator.requests(path=GENERATE)] == [404]
    heygen_emulator.retire_legacy_api(False)
    assert api.post(GENERATE, json=video_body()).status_code == 200


def test_the_switch_through_the_admin_http_api(anonymous: httpx.Client, api: httpx.Client) -> None:
    assert anonymous.patch("/_emulator/settings", json={"legacy_retired": True}).json()["legacy_retired"] is True
    assert api.get("/v2/voices").status_code == 404
    assert api.post(V3_VIDEOS, json=v3_body()).status_code == 200


def test_the_cli_flag_retires_the_legacy_api() -> None:
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--legacy-retired", "--create-delay-seconds", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base_url = read_lines(process, 1)[0].rsplit(" ", 1)[1]
        with httpx.Client(base_url=base_url, headers={"X-Api-Key": "heygen-emulator-key"}, trust_env=False) as client:
            assert client.get("/v2/voices").status_code == 404
            assert client.get("/v3/voices").status_code == 200
            assert client.get("/_emulator/settings").json()["legacy_retired"] is True
    finally:
        process.terminate()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# The schema data ----------------------------------------------------------------------------------


def test_the_schemas_ship_as_package_data_with_their_source() -> None:
    shipped = resources.files("heygen_provider.testing.emulator") / "schemas" / "heygen_v3.json"
    document = json.loads(shipped.read_text(encoding="utf-8"))
    assert "heygen-com/heygen-cli" in document["source"] and "7699a8e" in document["source"]
    assert document["license"] == "Apache-2.0"
    assert {
        "VideoCreate",
        "VideoGet",
        "VideoStatusesList",
        "VideoDelete",
        "VideoList",
        "AssetCreate",
        "AssetDirectUploadsCreate",
        "AssetCompleteCreate",
        "UserMeGet",
        "VoiceList",
        "AvatarLooksList",
        "AvatarList",
    } <= set(document["operations"])
    assert schema.operation("VideoCreate")["endpoint"] == "/v3/videos"


def _discriminated(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _discriminated(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if "discriminator" in node and "oneOf" in node else []
    return found + [inner for value in node.values() for inner in _discriminated(value)]


def test_every_discriminator_value_selects_its_own_arm() -> None:
    unions = _discriminated(schema.document()["operations"])
    assert len(unions) >= 15
    for union in unions:
        arms = union[schema.ARMS]
        assert set(arms) == set(union["discriminator"]["mapping"])
        assert len(set(arms.values())) == len(arms)
    body = schema.operation("VideoCreate")["request_schema"]
    chosen = {value: body["oneOf"][index]["required"] for value, index in body[schema.ARMS].items()}
    assert chosen == {
        "avatar": ["type", "avatar_id"],
        "image": ["type", "image"],
        "cinematic_avatar": ["type", "prompt", "avatar_id"],
        "studio": ["type", "scenes"],
    }


# The connection helper ----------------------------------------------------------------------------


def test_api_version_goes_into_the_connection_extra(heygen_emulator: HeyGenEmulator) -> None:
    from airflow.sdk import Connection

    assert "api_version" not in heygen_emulator.airflow_connection().extra
    connection = heygen_emulator.airflow_connection(api_version="v3", extra={"create_timeout": 60})
    assert connection.extra == {"create_timeout": 60, "api_version": "v3"}
    legacy = airflow_connection("http://127.0.0.1:1", "key", "heygen_legacy", api_version="legacy")
    assert legacy.as_dict() == {
        "conn_type": "heygen",
        "host": "http://127.0.0.1:1",
        "password": "key",
        "extra": {"api_version": "legacy"},
    }
    for form in (connection, legacy):
        parsed = Connection.from_uri(form.uri(), conn_id=form.conn_id)
        assert parsed.extra_dejson == form.extra
    with pytest.raises(ValueError, match="api_version"):
        airflow_connection("http://127.0.0.1:1", "key", api_version="v4")
    with pytest.raises(ValueError, match="auth_type"):
        airflow_connection("http://127.0.0.1:1", "key", auth_type="basic")


def test_a_v3_create_of_the_legacy_body_is_refused_clearly(api: httpx.Client) -> None:
    # A client that sends the legacy body to the v3 path learns which field v3 wants.
    error = v3_error(api.post(V3_VIDEOS, json=video_body()), 400)
    assert error["param"] == "type"


def test_the_v3_emulator_does_not_import_airflow() -> None:
    code = "import heygen_provider.testing.emulator.v3, sys; print('airflow' in sys.modules)"
    finished = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60)
    assert finished.stdout.strip() == "False"
