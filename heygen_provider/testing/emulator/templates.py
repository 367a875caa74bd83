"""HeyGen's v3 templates in the emulator: a small catalogue, and the checks of ``POST /v3/templates/{id}``.

A template's ``variables`` are keyed by name, each in the shape the generate request accepts
(``{"name", "type", "properties"}``, its current default in ``properties``), as ``GET /v3/templates/{id}``
documents: text ``{"content"}``, image/video/audio ``{"url"}`` or ``{"asset_id"}``, character
``{"character_id", "type"}``, voice ``{"voice_id"}``. A generate request may leave a variable out (the
default is used) but may not name one the template lacks or give it another type, as HeyGen answers.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from heygen_provider.testing.emulator.catalogue import CREATED_AT, STATIC_THUMBNAIL_PATH, STATIC_VIDEO_PATH, VOICES
from heygen_provider.testing.emulator.validation import CHARACTERS_PER_SECOND, Rejection, RenderRequest

#: The property a value of each variable type needs (one of them).
REQUIRED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "text": ("content",),
    "image": ("url", "asset_id"),
    "video": ("url", "asset_id"),
    "audio": ("url", "asset_id"),
    "character": ("character_id",),
    "voice": ("voice_id",),
}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _variable(name: str, kind: str, **properties: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "properties": properties}


def _templates(base_url: str) -> dict[str, dict[str, Any]]:
    thumbnail = base_url + STATIC_THUMBNAIL_PATH
    weekly: dict[str, Any] = {
        "id": "tpl_weekly_update",
        "name": "Weekly update",
        "aspect_ratio": "16:9",
        "variables": {
            "manager_name": _variable("manager_name", "text", content="Alex"),
            "region": _variable("region", "text", content="North"),
            "headline": _variable("headline", "text", content="Revenue was up this week."),
            "logo": _variable("logo", "image", url=thumbnail, asset_id=None, fit="contain"),
        },
        "scenes": [
            {
                "scene_id": "scene_intro",
                "script": "Hi {{manager_name}}! Here is the {{region}} region this week.",
                "variables": [
                    {"name": "manager_name", "variable_type": "text"},
                    {"name": "region", "variable_type": "text"},
                    {"name": "logo", "variable_type": "image"},
                ],
            },
            {
                "scene_id": "scene_figures",
                "script": "{{headline}} Have a great week!",
                "variables": [{"name": "headline", "variable_type": "text"}],
            },
        ],
    }
    launch: dict[str, Any] = {
        "id": "tpl_product_launch",
        "name": "Product launch",
        "aspect_ratio": "9:16",
        "variables": {
            "product_name": _variable("product_name", "text", content="Trail shoes"),
            "presenter": _variable("presenter", "character", character_id="Daisy-inskirt-20220818", type="avatar"),
            "narrator": _variable("narrator", "voice", voice_id=VOICES[0]["voice_id"]),
            "product_shot": _variable("product_shot", "image", url=thumbnail, asset_id=None, fit="cover"),
            "demo_clip": _variable("demo_clip", "video", url=base_url + STATIC_VIDEO_PATH, asset_id=None),
        },
        "scenes": [
            {
                "scene_id": "scene_launch",
                "script": "Meet {{product_name}}, available from today.",
                "variables": [
                    {"name": name, "variable_type": kind}
                    for name, kind in (
                        ("product_name", "text"),
                        ("presenter", "character"),
                        ("narrator", "voice"),
                        ("product_shot", "image"),
                        ("demo_clip", "video"),
                    )
                ],
            }
        ],
    }
    templates = {}
    for template in (weekly, launch):
        template.update(
            scene_ids=[scene["scene_id"] for scene in template["scenes"]],
            thumbnail_url=thumbnail,
            created_at=CREATED_AT,
            updated_at=CREATED_AT,
        )
        templates[template["id"]] = template
    return templates


def find_template(template_id: str, base_url: str) -> dict[str, Any] | None:
    """The ``data`` of ``GET /v3/templates/{template_id}``, or ``None`` for an unknown id.

    :param template_id: the template's id.
    :param base_url: the emulator's base URL, for the default media links.
    """
    found = _templates(base_url).get(template_id)
    return copy.deepcopy(found) if found is not None else None


def list_templates(base_url: str) -> list[dict[str, Any]]:
    """The items of ``GET /v3/templates``.

    :param base_url: the emulator's base URL.
    """
    return [
        {key: template[key] for key in ("id", "name", "aspect_ratio", "thumbnail_url", "created_at", "updated_at")}
        for template in _templates(base_url).values()
    ]


def validate_template_generate(template: dict[str, Any], body: dict[str, Any]) -> RenderRequest:
    """Check a ``POST /v3/templates/{id}`` body (already schema-checked) against the template's variables.

    :param template: the template, as :func:`find_template` gives it.
    :param body: the decoded JSON body.
    :raises Rejection: on the first problem found, ``param`` naming the variable.
    """
    defined: dict[str, Any] = template["variables"]
    given: dict[str, Any] = body["variables"]
    for name, value in given.items():
        param = f"variables.{name}"
        if name not in defined:
            raise Rejection(f"template {template['id']} has no variable {name!r}", param=param)
        kind = defined[name]["type"]
        if not isinstance(value, dict) or not isinstance(value.get("properties"), dict):
            raise Rejection(f"{param} must be an object with type and properties", param=param)
        if value.get("type", kind) != kind:
            raise Rejection(f"{param} is of type {kind}; got type {value.get('type')!r}", param=param)
        properties = value["properties"]
        if not any(isinstance(properties.get(key), str) and properties[key] for key in REQUIRED_PROPERTIES[kind]):
            needed = " or ".join(f"properties.{key}" for key in REQUIRED_PROPERTIES[kind])
            raise Rejection(f"{param} needs {needed}", param=f"{param}.properties")
    texts = {
        name: str((given.get(name) or variable)["properties"].get("content", ""))
        for name, variable in defined.items()
        if variable["type"] == "text"
    }
    scenes = {scene["scene_id"]: scene for scene in template["scenes"]}
    chosen = body.get("scene_ids") or template["scene_ids"]
    for index, scene_id in enumerate(chosen):
        if scene_id not in scenes:
            raise Rejection(f"scene_ids[{index}]: template has no scene {scene_id!r}", param=f"scene_ids[{index}]")
    script = " ".join(
        PLACEHOLDER.sub(lambda match: texts.get(match.group(1), ""), scenes[scene_id].get("script") or "")
        for scene_id in chosen
    )
    title, callback_id = body.get("title"), body.get("callback_id")
    return RenderRequest(
        script=script,
        duration_seconds=round(max(1.0, len(script) / CHARACTERS_PER_SECOND), 3),
        caption=bool(body.get("caption")),
        title=title,
        callback_id=callback_id,
        test=False,
        magic_text=f"{title or ''} {callback_id or ''}",
    )
