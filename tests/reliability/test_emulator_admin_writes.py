"""
Issue 27, item 12: the emulator refuses cross-site writes.

Any web page a developer visits can make the browser send a "simple" request (a POST whose Content-Type
is ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``) to 127.0.0.1
without asking first. ``/_emulator/faults`` and ``/_emulator/clock`` accepted such requests, so a page
could queue faults or move the clock. Every admin write now needs ``Content-Type: application/json``,
which a browser sends to another site only after a CORS preflight the emulator never grants.

The endpoints are taken from the admin API's own routing table, so a write endpoint added later is
covered too. Requests go over loopback to a running emulator.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.testing.emulator.admin import ADMIN_PREFIX, READ_METHODS, AdminApi
from heygen_provider.testing.emulator.server import EmulatorApp
from heygen_provider.testing.emulator.settings import EmulatorSettings

#: What a browser may send cross-site without a preflight, and no Content-Type at all.
SIMPLE_CONTENT_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    # Browsers read the type before ";": a JSON-looking parameter does not make it JSON.
    "text/plain; application/json",
    None,
]
#: A body each write endpoint would act on if it were accepted.
BODIES: dict[str, dict[str, Any]] = {
    "faults": {"fault": "server_error", "count": None},
    "clock": {"advance_seconds": 86_400},
    "settings": {"legacy_retired": True, "render_seconds": 999},
}
WRITES = sorted(
    (method, endpoint)
    for method, endpoint in AdminApi(EmulatorApp(EmulatorSettings())).routes
    if method not in READ_METHODS
)


def snapshot(emulator: HeyGenEmulator) -> dict[str, Any]:
    """Everything an admin write can change."""
    app = emulator.app
    assert app is not None, "the emulator runs in this process"
    return {
        "clock": (id(app.clock), app.clock.offset),
        "faults": [rule.to_dict() for rule in app.faults.rules],
        "settings": app.settings.to_dict(),
        "requests": len(app.log.entries),
        "videos": sorted(app.store.jobs),
        "idempotency": len(app.idempotency.answers),
    }


@pytest.fixture
def busy(emulator: HeyGenEmulator) -> HeyGenEmulator:
    """An emulator with a video, a queued fault, a moved clock and a request log: state a write would change."""
    with httpx.Client(base_url=emulator.base_url, headers={"X-Api-Key": emulator.api_key}, trust_env=False) as api:
        created = api.post(
            "/v3/videos",
            json={"type": "avatar", "avatar_id": "Daisy-inskirt-20220818", "script": "Hi.", "voice_id": "v"},
            headers={"Idempotency-Key": "admin-writes-test"},
        )
    assert created.status_code == 200, created.text
    emulator.add_fault("rate_limited", path="/v3/voices", count=3)
    emulator.advance_time(60)
    return emulator


def test_every_write_endpoint_is_in_the_table() -> None:
    assert {("POST", "faults"), ("DELETE", "faults"), ("POST", "clock"), ("DELETE", "requests")} <= set(WRITES)
    assert {("PATCH", "settings"), ("POST", "reset")} <= set(WRITES)


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES, ids=str)
@pytest.mark.parametrize(("method", "endpoint"), WRITES)
def test_a_write_a_web_page_could_send_is_refused_and_changes_nothing(
    busy: HeyGenEmulator, method: str, endpoint: str, content_type: str | None
) -> None:
    before = snapshot(busy)
    headers = {"Content-Type": content_type} if content_type else {}
    # The attack: a JSON body under a type a form or fetch(..., {mode: "no-cors"}) may send.
    body = json.dumps(BODIES.get(endpoint, {})).encode()
    if content_type and content_type.startswith("multipart/"):
        # What a <form enctype="multipart/form-data"> sends: the JSON as a field's value.
        body = b'--x\r\nContent-Disposition: form-data; name="payload"\r\n\r\n' + body + b"\r\n--x--\r\n"
    answer = httpx.request(
        method, f"{busy.base_url}{ADMIN_PREFIX}{endpoint}", content=body, headers=headers, trust_env=False
    )
    assert answer.status_code in (403, 415), answer.text
    assert "application/json" in answer.json()["error"], "the refusal says what to send"
    assert snapshot(busy) == before


@pytest.mark.parametrize(("method", "endpoint"), WRITES)
def test_a_json_write_is_still_accepted(emulator: HeyGenEmulator, method: str, endpoint: str) -> None:
    answer = httpx.request(
        method,
        f"{emulator.base_url}{ADMIN_PREFIX}{endpoint}",
        json=BODIES.get(endpoint, {}),
        headers={"Content-Type": "application/json; charset=utf-8"},
        trust_env=False,
    )
    assert answer.status_code == 200, answer.text


def test_reads_need_no_content_type(busy: HeyGenEmulator) -> None:
    for endpoint in ("health", "requests", "faults", "videos", "assets", "settings"):
        assert httpx.get(f"{busy.base_url}{ADMIN_PREFIX}{endpoint}", trust_env=False).status_code == 200


def test_the_python_client_still_drives_every_write(busy: HeyGenEmulator) -> None:
    busy.clear_requests()
    busy.clear_faults()
    busy.add_fault("server_error", path="/v3/voices")
    busy.advance_time(5)
    busy.update_settings(render_seconds=1.0)
    assert len(busy.faults()) == 1 and busy.current_settings()["render_seconds"] == 1.0
    busy.reset()
    assert busy.faults() == [] and busy.videos() == []
