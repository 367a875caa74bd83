"""
Property-based tests of the video request model (``VideoGenerateRequest``), with hypothesis.

* Valid requests are generated together with the JSON HeyGen expects, built here independently of the
  model; ``to_payload()`` and the body the hook sends must equal it exactly.
* Invalid requests are a valid one with one rule broken; each must be refused with a problem line
  naming the broken field's path, before any HTTP call (requests-mock with nothing registered counts
  the calls).

Derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoGenerateRequest
from heygen_provider.models.base import MAX_EXTRA_DEPTH
from heygen_provider.models.request import DIMENSION_PRESETS, MAX_INPUT_TEXT_LENGTH, MAX_SCENES

CREATE_URL = "https://api.heygen.com/v2/video/generate"


def property_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


Case = tuple[dict[str, Any], dict[str, Any]]  # (operator params, the JSON HeyGen expects)

# -- valid requests and their JSON -------------------------------------------------------------------

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24)
texts = st.text(min_size=1, max_size=80)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}.example/{path}", st.sampled_from(["http", "https"]), ids, ids
)
finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def optional_fields(draw: st.DrawFn, choices: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A random subset of optional fields, each with a valid value; the JSON carries them verbatim."""
    chosen = draw(st.lists(st.sampled_from(sorted(choices)), unique=True))
    return {name: draw(choices[name]) for name in chosen}


CHARACTER_OPTIONS = {
    "avatar_style": st.sampled_from(["normal", "circle", "closeUp"]),
    "scale": st.floats(0.0, 5.0, **finite),
    "talking_style": st.sampled_from(["stable", "expressive"]),
    "expression": st.sampled_from(["default", "happy"]),
    "matting": st.booleans(),
    "super_resolution": st.booleans(),
    "use_avatar_iv_model": st.booleans(),
}
TEXT_VOICE_OPTIONS = {
    "speed": st.floats(0.5, 1.5, **finite),
    "pitch": st.integers(-50, 50),
    "emotion": st.sampled_from(["Excited", "Friendly", "Serious", "Soothing", "Broadcaster"]),
    "locale": st.sampled_from(["en-US", "de-DE", "pt-BR"]),
}


@st.composite
def characters(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["avatar", "talking_photo"]))
    params = {"type": kind, f"{kind}_id": draw(ids), **draw(optional_fields(CHARACTER_OPTIONS))}
    expected = dict(params)
    if draw(st.booleans()):
        offset = draw(
            st.fixed_dictionaries({}, optional={"x": st.floats(-1, 1, **finite), "y": st.floats(-1, 1, **finite)})
        )
        params["offset"] = offset
        expected["offset"] = {"x": offset.get("x", 0.0), "y": offset.get("y", 0.0)}
    return params, expected


@st.composite
def voices(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["text", "audio", "silence"]))
    if kind == "text":
        params = {
            "type": kind,
            "voice_id": draw(ids),
            "input_text": draw(texts),
            **draw(optional_fields(TEXT_VOICE_OPTIONS)),
        }
    elif kind == "audio":
        source = draw(st.sampled_from(["audio_url", "audio_asset_id"]))
        params = {"type": kind, source: draw(urls if source == "audio_url" else ids)}
    else:
        params = {"type": kind, "duration": draw(st.floats(0.1, 60, **finite))}
    return params, dict(params)


@st.composite
def backgrounds(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["color", "image", "video"]))
    if kind == "color":
        params = {"type": kind, "value": "#" + draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=6, max_size=6))}
    else:
        source = draw(st.sampled_from(["url", f"{kind}_asset_id"]))
        params = {"type": kind, source: draw(urls if source == "url" else ids)}
        params.update(draw(optional_fields({"fit": st.sampled_from(["cover", "crop", "contain", "none"])})))
        if kind == "video":
            params.update(
                draw(optional_fields({"play_style": st.sampled_from(["fit_to_scene", "freeze", "loop", "once"])}))
            )
    return params, dict(params)


@st.composite
def scenes(draw: st.DrawFn) -> Case:
    character, character_json = draw(characters())
    voice, voice_json = draw(voices())
    params: dict[str, Any] = {"character": character, "voice": voice}
    expected: dict[str, Any] = {"character": character_json, "voice": voice_json}
    if draw(st.booleans()):
        params["background"], expected["background"] = draw(backgrounds())
    return params, expected


@st.composite
def dimensions(draw: st.DrawFn) -> tuple[Any, dict[str, int]]:
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(DIMENSION_PRESETS)))
        width, height = DIMENSION_PRESETS[name]
        spelled = draw(st.sampled_from([name, name.lower(), name.upper(), f" {name} "]))
        return spelled, {"width": width, "height": height}
    side = st.integers(64, 2048).map(lambda half: half * 2)
    sides = {"width": draw(side), "height": draw(side)}
    return sides, dict(sides)


TOP_LEVEL_OPTIONS = {
    "caption": st.booleans(),
    "title": st.text(max_size=40),
    "callback_id": ids,
    "callback_url": urls,
    "test": st.booleans(),
    "folder_id": ids,
}


@st.composite
def valid_requests(draw: st.DrawFn, max_scenes: int = 3) -> Case:
    """Operator-style parameters and, built independently, the JSON HeyGen expects for them."""
    pairs = draw(st.lists(scenes(), min_size=1, max_size=max_scenes))
    params: dict[str, Any] = {"video_inputs": [scene for scene, _ in pairs]}
    expected: dict[str, Any] = {
        "video_inputs": [scene for _, scene in pairs],
        "dimension": {"width": 1280, "height": 720},
        "caption": False,
        "title": "",
    }
    if draw(st.booleans()):
        params["dimension"], expected["dimension"] = draw(dimensions())
    options = draw(optional_fields(TOP_LEVEL_OPTIONS))
    params.update(options)
    expected.update(options)
    if draw(st.booleans()):
        # A field HeyGen added after this release goes in extra_fields and is sent verbatim.
        extra = {"brand_voice_id": draw(ids)}
        params["extra_fields"] = extra
        expected.update(extra)
    return params, expected


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False)


# -- invalid requests: a valid one with one rule broken -------------------------------------------------

OUT_OF_RANGE_SPEED = st.one_of(
    st.floats(max_value=0.5, exclude_max=True, **finite), st.floats(min_value=1.5, exclude_min=True, **finite)
)
OUT_OF_RANGE_PITCH = st.one_of(st.integers(max_value=-51), st.integers(min_value=51))
OUT_OF_RANGE_SCALE = st.one_of(
    st.floats(max_value=0.0, exclude_max=True, **finite), st.floats(min_value=5.0, exclude_min=True, **finite)
)
WRONG_ENUM = st.text(min_size=1, max_size=12).filter(
    lambda text: text not in {"avatar", "talking_photo", "text", "audio", "silence", "color", "image", "video"}
)
BAD_SIDE = st.one_of(
    st.integers(max_value=127),
    st.integers(min_value=4097),
    st.integers(64, 2048).map(lambda half: half * 2 + 1),
)
UNKNOWN_KEY = st.sampled_from(["colour", "avatarId", "speeed", "backgroud", "input", "voiceId", "x_custom"])


#: Rules broken by giving one field of a scene's character or (text) voice a bad value.
VALUE_RULES: dict[str, tuple[str, str, st.SearchStrategy[Any]]] = {
    "speed": ("voice", "speed", OUT_OF_RANGE_SPEED),
    "pitch": ("voice", "pitch", OUT_OF_RANGE_PITCH),
    "pitch-not-whole": ("voice", "pitch", st.floats(-50, 50, **finite).filter(lambda number: not number.is_integer())),
    "number-is-bool": ("voice", "speed", st.booleans()),
    "too-long-text": (
        "voice",
        "input_text",
        st.integers(1, 500).map(lambda extra: "a" * (MAX_INPUT_TEXT_LENGTH + extra)),
    ),
    "empty-text": ("voice", "input_text", st.just("")),
    "voice-type": ("voice", "type", WRONG_ENUM),
    "scale": ("character", "scale", OUT_OF_RANGE_SCALE),
    "character-type": ("character", "type", WRONG_ENUM),
}
OTHER_RULES = [
    "enum-field", "missing-character-id", "missing-text-field", "missing-duration", "no-audio-source",
    "two-audio-sources", "missing-colour", "bad-colour", "no-background-source", "too-many-scenes", "no-scenes",
    "bad-side", "unknown-preset", "unknown-key", "bad-callback-url", "empty-callback-id", "extra-fields-clash",
]  # fmt: skip


def _scene_path(index: int, *parts: str) -> str:
    return f"video_inputs[{index}]" + "".join(f".{part}" for part in parts)


@st.composite
def broken_requests(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """(params, the path of the broken field, what was broken) for one of many rules."""
    params, _ = draw(valid_requests())
    params = json.loads(json.dumps(params))  # a deep copy to break
    index = draw(st.integers(0, len(params["video_inputs"]) - 1))
    scene = params["video_inputs"][index]
    character = scene["character"]
    # Rules about a text voice get one; the others keep the drawn voice.
    voice = {"type": "text", "voice_id": "v", "input_text": "Hello."}
    rule = draw(st.sampled_from([*VALUE_RULES, *OTHER_RULES]))
    if rule in VALUE_RULES:
        where, name, values = VALUE_RULES[rule]
        if where == "voice":
            scene["voice"] = voice
        (voice if where == "voice" else character)[name] = draw(values)
        return params, _scene_path(index, where, name), rule
    if rule == "enum-field":
        where, name = draw(
            st.sampled_from(
                [("character", "avatar_style"), ("character", "talking_style"), ("character", "expression"),
                 ("voice", "emotion")]
            )
        )  # fmt: skip
        if name == "emotion":
            scene["voice"] = voice
        target = character if where == "character" else voice
        target[name] = draw(WRONG_ENUM.filter(lambda text: text not in CHARACTER_VALUES))
        return params, _scene_path(index, where, name), rule
    if rule == "missing-character-id":
        character.pop(f"{character['type']}_id")
        return params, _scene_path(index, "character", f"{character['type']}_id"), rule
    if rule == "missing-text-field":
        missing = draw(st.sampled_from(["voice_id", "input_text"]))
        scene["voice"] = voice
        voice.pop(missing)
        return params, _scene_path(index, "voice", missing), rule
    if rule == "missing-duration":
        scene["voice"] = {"type": "silence"}
        return params, _scene_path(index, "voice", "duration"), rule
    if rule == "no-audio-source":
        scene["voice"] = {"type": "audio"}
        return params, _scene_path(index, "voice", "audio_url"), rule
    if rule == "two-audio-sources":
        scene["voice"] = {"type": "audio", "audio_url": "https://a.example/x.mp3", "audio_asset_id": "asset"}
        return params, _scene_path(index, "voice", "audio_url"), rule
    if rule == "missing-colour":
        scene["background"] = {"type": "color"}
        return params, _scene_path(index, "background", "value"), rule
    if rule == "bad-colour":
        colour = draw(st.text(max_size=9).filter(lambda text: not _is_hex_colour(text)))
        scene["background"] = {"type": "color", "value": colour}
        return params, _scene_path(index, "background", "value"), rule
    if rule == "no-background-source":
        scene["background"] = {"type": draw(st.sampled_from(["image", "video"]))}
        return params, _scene_path(index, "background", "url"), rule
    if rule == "too-many-scenes":
        params["video_inputs"] = [scene] * draw(st.integers(MAX_SCENES + 1, MAX_SCENES + 20))
        return params, "video_inputs", rule
    if rule == "no-scenes":
        params["video_inputs"] = []
        return params, "video_inputs", rule
    if rule == "bad-side":
        side = draw(st.sampled_from(["width", "height"]))
        params["dimension"] = {"width": 1280, "height": 720, side: draw(BAD_SIDE)}
        return params, f"dimension.{side}", rule
    if rule == "unknown-preset":
        params["dimension"] = draw(st.sampled_from(["8K", "480p", "HD", "1080", "full hd"]))
        return params, "dimension", rule
    if rule == "unknown-key":
        where = draw(st.sampled_from(["top", "scene", "character", "voice"]))
        key = draw(UNKNOWN_KEY)
        target = {"top": params, "scene": scene, "character": character, "voice": scene["voice"]}[where]
        target[key] = draw(st.one_of(st.integers(), ids))
        prefix = {"top": "", "scene": _scene_path(index) + ".", "character": _scene_path(index, "character") + ".",
                  "voice": _scene_path(index, "voice") + "."}[where]  # fmt: skip
        return params, prefix + key, rule
    if rule == "bad-callback-url":
        params["callback_url"] = draw(st.sampled_from(["ftp://host/x", "example.com/hook", "/relative", "mailto:a@b"]))
        return params, "callback_url", rule
    if rule == "empty-callback-id":
        params["callback_id"] = ""
        return params, "callback_id", rule
    # extra-fields-clash: extra_fields may not smuggle a known field past its rules.
    params["extra_fields"] = {"caption": "yes"}
    return params, "extra_fields", rule


CHARACTER_VALUES = {"normal", "circle", "closeUp", "stable", "expressive", "default", "happy"} | {
    "Excited",
    "Friendly",
    "Serious",
    "Soothing",
    "Broadcaster",
}


def _is_hex_colour(text: str) -> bool:
    return len(text) == 7 and text[0] == "#" and all(char in "0123456789abcdefABCDEF" for char in text[1:])


# -- the properties ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> Iterator[requests_mock.Mocker]:
    """
    Every HTTP call of the module goes to requests-mock; only the create URL is registered, so any other
    call fails, and the call history counts what was sent.
    """
    with requests_mock.Mocker() as mocker:
        mocker.post(CREATE_URL, json={"error": None, "data": {"video_id": "v1"}})
        yield mocker


@pytest.fixture(scope="module")
def hook(http: requests_mock.Mocker) -> Iterator[HeyGenHook]:
    """One hook on https://api.heygen.com for every example (the connection is read once)."""
    connection = json.dumps(
        {
            "conn_type": "heygen",
            "host": "https://api.heygen.com",
            "password": "sk-PROPERTY-key",
            "extra": {"api_version": "legacy"},
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection)
        hook = HeyGenHook()
        hook.settings  # noqa: B018 (read while the variable is set)
        yield hook


def refused_before_any_http_call(
    hook: HeyGenHook, http: requests_mock.Mocker, params: dict[str, Any] | Callable[[], Any]
) -> HeyGenRequestValidationError:
    """The error of submitting ``params`` (or what a callable builds), which must come before any HTTP call."""
    http.reset_mock()
    with pytest.raises(HeyGenRequestValidationError) as refused:
        hook.create_video(params() if callable(params) else params)
    assert http.call_count == 0, "a refused request must not reach HeyGen"
    return refused.value


@property_settings(2000)
@given(case=broken_requests())
def test_invalid_requests_are_refused_by_field_before_any_http_call(
    hook: HeyGenHook, http: requests_mock.Mocker, case: tuple[dict[str, Any], str, str]
) -> None:
    params, path, rule = case
    error = refused_before_any_http_call(hook, http, params)
    assert any(problem.startswith(f"{path}: ") for problem in error.problems), (rule, path, error.problems)
    assert f"{path}: " in str(error)


@property_settings(300)
@given(case=valid_requests())
def test_valid_requests_serialize_to_exactly_the_json_heygen_expects(
    hook: HeyGenHook, http: requests_mock.Mocker, case: Case
) -> None:
    params, expected = case
    assert canonical(VideoGenerateRequest.from_params(params).to_payload()) == canonical(expected)
    http.reset_mock()
    assert hook.create_video(params).video_id == "v1"
    assert http.call_count == 1
    assert canonical(http.last_request.json()) == canonical(expected), "the body on the wire"


@property_settings(20)
@given(case=valid_requests(max_scenes=1))
def test_fifty_scenes_are_the_limit_and_accepted(case: Case) -> None:
    params, expected = case
    params = {**params, "video_inputs": params["video_inputs"] * MAX_SCENES}
    payload = VideoGenerateRequest.from_params(params).to_payload()
    assert payload["video_inputs"] == expected["video_inputs"] * MAX_SCENES


# -- values JSON cannot carry verbatim, and structured text that cannot be read back ------------------

#: (name, value placed in extra_fields, what the problem line must say)
UNSENDABLE: dict[str, tuple[Any, str]] = {
    "nan": (float("nan"), "must be a finite number"),
    "infinity": (float("inf"), "must be a finite number"),
    "minus-infinity": (float("-inf"), "must be a finite number"),
    "bytes": (b"\xff\xfe", "must be a JSON value"),
    "utf8-bytes": (b"abc", "must be a JSON value"),
    "set": ({1, 2}, "must be a JSON value"),
    "complex": (1j, "must be a JSON value"),
    "object": (object(), "must be a JSON value"),
}


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def unsendable_requests(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """(params, the path of the unsendable value, what the problem says): a valid request plus one bad value."""
    params, _ = draw(valid_requests())
    params = json.loads(json.dumps(params))
    if draw(st.booleans()):
        bad, rule = UNSENDABLE[draw(st.sampled_from(sorted(UNSENDABLE)))]
    else:
        bad, rule = nested(draw(st.integers(MAX_EXTRA_DEPTH + 1, 3000))), "is nested more than"
    # Somewhere inside an otherwise sendable value: a list, an object, or straight under the key.
    key, inner = draw(ids), draw(ids)
    shape = draw(st.sampled_from(["direct", "in-list", "in-object"]))
    value, suffix = {
        "direct": (bad, ""),
        "in-list": (["fine", bad], "[1]"),
        "in-object": ({"ok": 1, inner: bad}, f".{inner}"),
    }[shape]
    where = draw(st.sampled_from(["top", "character", "voice"]))
    if where == "top":
        params["extra_fields"] = {**params.get("extra_fields", {}), key: value}
        return params, f"extra_fields.{key}{suffix}", rule
    index = draw(st.integers(0, len(params["video_inputs"]) - 1))
    target = params["video_inputs"][index][where]
    target["extra_fields"] = {key: value}
    return params, f"{_scene_path(index, where, 'extra_fields')}.{key}{suffix}", rule


@property_settings(500)
@given(case=unsendable_requests())
def test_values_json_cannot_carry_verbatim_are_refused_by_field_before_any_http_call(
    hook: HeyGenHook, http: requests_mock.Mocker, case: tuple[dict[str, Any], str, str]
) -> None:
    params, path, rule = case
    problems = refused_before_any_http_call(hook, http, params).problems
    assert any(problem.startswith(path) and rule in problem for problem in problems), (path, rule, problems)


#: Text a template may leave in a structured parameter, and the field it is given to.
UNREADABLE_TEXT: dict[str, tuple[str, str]] = {
    "jinja-braces-in-video_inputs": ("video_inputs", "{{1}}"),
    "jinja-braces-in-extra_fields": ("extra_fields", "{{1}}"),
    "unhashable-literal": ("extra_fields", "{[1]: 2}"),
    "a-set-literal": ("video_inputs", "{1, 2}"),
    "deep-json-array": ("video_inputs", "[" * 100_000 + "]" * 100_000),
    "deep-json-in-an-object": ("extra_fields", '{"a": ' + "[" * 5000 + "]" * 5000 + "}"),
    "deep-python-literal": ("extra_fields", "{'a': " + "[" * 5000 + "]" * 5000 + "}"),
    "moderately-deep-json": ("extra_fields", '{"a": ' + "[" * 500 + "]" * 500 + "}"),
    "bytes-literal-value": ("extra_fields", "{'a': b'x'}"),
    "nan-in-json-text": ("extra_fields", '{"a": NaN}'),
    "infinity-in-json-text": ("extra_fields", '{"a": [Infinity]}'),
}


@pytest.mark.parametrize("case", list(UNREADABLE_TEXT))
def test_unreadable_structured_text_is_refused_by_field_before_any_http_call(
    case: str, hook: HeyGenHook, http: requests_mock.Mocker
) -> None:
    from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

    name, text = UNREADABLE_TEXT[case]
    params: dict[str, Any] = {"video_inputs": [{"character": CHARACTER, "voice": VOICE}], name: text}
    operator = HeyGenGenerateVideoOperator(task_id="generate", **params)
    problems = refused_before_any_http_call(hook, http, operator.build_request).problems
    assert any(problem.startswith(name) for problem in problems), problems


CHARACTER = {"type": "avatar", "avatar_id": "a"}
VOICE = {"type": "text", "voice_id": "v", "input_text": "Hello."}
