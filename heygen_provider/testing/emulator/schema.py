"""HeyGen's published v3 request and response schemas, and a validator that reads them as HeyGen does.

The schemas in ``schemas/heygen_v3.json`` are HeyGen's own (see its ``source`` note), copied as data.
They are OpenAPI 3.0 schema objects, which :mod:`jsonschema` reads as JSON Schema but for two
keywords: ``nullable`` (``null`` is allowed too) and ``discriminator`` (the ``oneOf`` arm is picked by
a property's value). The validator here adds both; picking the arm by the discriminator, rather than
trying every arm, is what makes an error name the field that is wrong instead of "is not valid under
any of the given schemas".
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]

SCHEMA_FILE = "heygen_v3.json"
#: Where a discriminated ``oneOf`` keeps the arm of each discriminator value once resolved.
ARMS = "x-emulator-arms"
#: How much of a wrong value an error message quotes.
SHOWN_CHARACTERS = 60
QUOTED = re.compile(r"'([A-Za-z0-9_]+)'")
_BASE = jsonschema.Draft7Validator


@dataclass(frozen=True)
class SchemaProblem:
    """The first thing a body gets wrong.

    :param param: the offending field as a path (``voice_settings.speed``, ``scenes[0].input.type``),
        or ``None`` for the body itself.
    :param message: what is wrong, naming the field.
    """

    param: str | None
    message: str


@functools.cache
def document() -> dict[str, Any]:
    """The whole schema file: ``source``, ``license``, ``upstream`` and ``operations``."""
    text = (resources.files(__package__) / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    for operation in loaded["operations"].values():
        for key in ("request_schema", "response_schema"):
            if key in operation:
                _resolve_discriminators(operation[key])
    return loaded


def operation(name: str) -> dict[str, Any]:
    """One operation: ``method``, ``endpoint``, ``parameters``, ``request_schema``, ``response_schema``.

    :param name: HeyGen's operation name, e.g. ``VideoCreate``.
    """
    found: dict[str, Any] = document()["operations"][name]
    return found


def _resolve_discriminators(schema: Any) -> None:
    """Record, on every discriminated ``oneOf``, which arm each discriminator value selects.

    The schemas inline the arms, so the mapping's ``#/components/schemas/...`` targets cannot be
    followed. An arm is recognised, in this order, by its discriminator property's description
    quoting the value (``Must be 'avatar'``), by a property of that name (the ``url`` arm of an
    asset input), or as the one arm left for the one value left.

    :raises ValueError: when a value matches no arm or two values the same arm.
    """
    if isinstance(schema, list):
        for item in schema:
            _resolve_discriminators(item)
        return
    if not isinstance(schema, dict):
        return
    for value in schema.values():
        _resolve_discriminators(value)
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict) or "oneOf" not in schema:
        return
    name = discriminator["propertyName"]
    arms: list[dict[str, Any]] = schema["oneOf"]
    chosen: dict[str, int] = {}
    for index, arm in enumerate(arms):
        described = arm.get("properties", {}).get(name, {}).get("description", "")
        for value in QUOTED.findall(described):
            if value in discriminator["mapping"]:
                chosen.setdefault(value, index)
    for value in discriminator["mapping"]:
        if value not in chosen:
            named = [i for i, arm in enumerate(arms) if value in arm.get("properties", {}) and i not in chosen.values()]
            if len(named) == 1:
                chosen[value] = named[0]
    left_values = [value for value in discriminator["mapping"] if value not in chosen]
    left_arms = [index for index in range(len(arms)) if index not in chosen.values()]
    if len(left_values) == 1 and len(left_arms) == 1:
        chosen[left_values[0]] = left_arms[0]
    if set(chosen) != set(discriminator["mapping"]) or len(set(chosen.values())) != len(chosen):
        raise ValueError(f"cannot match the {name!r} discriminator values {sorted(discriminator['mapping'])} to arms")
    schema[ARMS] = chosen


def _nullable_type(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if instance is None and schema.get("nullable"):
        return
    yield from _BASE.VALIDATORS["type"](validator, types, instance, schema)


def _nullable_enum(validator: Any, enums: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if instance is None and schema.get("nullable"):
        return
    yield from _BASE.VALIDATORS["enum"](validator, enums, instance, schema)


def _discriminated_one_of(validator: Any, arms: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if instance is None and schema.get("nullable"):
        return
    chosen = schema.get(ARMS)
    if chosen is None:
        yield from _BASE.VALIDATORS["oneOf"](validator, arms, instance, schema)
        return
    if not isinstance(instance, dict):
        yield jsonschema.ValidationError("must be an object", validator="discriminator")
        return
    name = schema["discriminator"]["propertyName"]
    value = instance.get(name)
    if value is None:
        yield jsonschema.ValidationError("is required", validator="discriminator", path=[name])
        return
    if not isinstance(value, str) or value not in chosen:
        allowed = ", ".join(sorted(chosen))
        yield jsonschema.ValidationError(
            f"must be one of {allowed}; got {_shown(value)}", validator="discriminator", path=[name]
        )
        return
    yield from validator.descend(instance, arms[chosen[value]], schema_path=chosen[value])


OpenApiValidator = jsonschema.validators.extend(
    _BASE, {"type": _nullable_type, "enum": _nullable_enum, "oneOf": _discriminated_one_of}
)


def field_path(parts: Any) -> str | None:
    """``scenes[0].input.script`` from jsonschema's path ``deque(["scenes", 0, "input", "script"])``.

    :param parts: the keys and indexes from the body's root.
    """
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."


def _problem(error: Any) -> SchemaProblem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        param = field_path([*path, missing])
        return SchemaProblem(param, f"{param} is required")
    param = field_path(path)
    where = param or "the request body"
    if error.validator == "discriminator":
        return SchemaProblem(param, f"{where} {error.message}")
    if error.validator == "type":
        expected = error.validator_value
        kinds = " or ".join(expected) if isinstance(expected, list) else expected
        article = "an" if kinds[0] in "aeiou" else "a"
        return SchemaProblem(param, f"{where} must be {article} {kinds}; got {_shown(error.instance)}")
    if error.validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value)
        return SchemaProblem(param, f"{where} must be one of {allowed}; got {_shown(error.instance)}")
    return SchemaProblem(param, f"{where}: {error.message}")


@functools.cache
def _validator(name: str, key: str) -> Any:
    return OpenApiValidator(operation(name)[key])


def request_problem(name: str, body: Any) -> SchemaProblem | None:
    """The first way ``body`` breaks operation ``name``'s request schema, or ``None`` when it fits.

    :param name: HeyGen's operation name, e.g. ``VideoCreate``.
    :param body: the decoded JSON body.
    """
    error = next(iter(_validator(name, "request_schema").iter_errors(body)), None)
    return None if error is None else _problem(error)


def response_problems(name: str, payload: Any) -> list[SchemaProblem]:
    """Every way ``payload`` breaks operation ``name``'s response schema (the emulator's own tests use it).

    :param name: HeyGen's operation name, e.g. ``VideoGet``.
    :param payload: the decoded JSON answer.
    """
    return [_problem(error) for error in _validator(name, "response_schema").iter_errors(payload)]
