"""
A HeyGen template (``GET /v3/templates/{template_id}``) and the check of one row's variables against it.

The template's ``variables`` are keyed by name, each in the shape the generate call accepts:
``{"name", "type", "properties"}`` with the current default in ``properties`` (text ``content``; image,
video and audio ``url`` or ``asset_id``; character ``character_id``; voice ``voice_id``). A row may give a
variable in that shape, or as a plain value that :func:`template_variables` turns into it: text for a
text variable, an ``https`` URL for a media one, an id for a character or a voice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from heygen_provider.exceptions import HeyGenMalformedResponseError, HeyGenRequestValidationError
from heygen_provider.models.params import parse_structured_param

#: The variable types HeyGen documents, and the property a plain row value becomes.
PLAIN_VALUE_PROPERTY: dict[str, str] = {
    "text": "content",
    "image": "url",
    "video": "url",
    "audio": "url",
    "character": "character_id",
    "voice": "voice_id",
}
#: Properties that carry the value itself: a variable given as an object needs one of them.
VALUE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "text": ("content",),
    "image": ("url", "asset_id"),
    "video": ("url", "asset_id"),
    "audio": ("url", "asset_id"),
    "character": ("character_id",),
    "voice": ("voice_id",),
}
MEDIA_TYPES = frozenset({"image", "video", "audio"})


class TemplateVariable(BaseModel):
    """
    One variable of a template.

    :param name: its name, the key a generate request uses.
    :param type: ``text``, ``image``, ``video``, ``audio``, ``character``, ``voice``, or a type HeyGen adds
        later (checked by name only).
    :param properties: its current default value.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    type: str = "unknown"
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) and value.strip() else "unknown"

    @field_validator("properties", mode="before")
    @classmethod
    def _object(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class Template(BaseModel):
    """
    A template as ``GET /v3/templates/{template_id}`` describes it; odd parts of the answer are tolerated.

    :param id: its id.
    :param name: its name.
    :param variables: its variables by name.
    :param scenes: its scenes (``scene_id``, ``script`` with placeholders, the variables each uses).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    name: str = ""
    aspect_ratio: str | None = None
    variables: dict[str, TemplateVariable] = Field(default_factory=dict)
    scenes: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_answer(cls, template_id: str, data: Any) -> Template:
        """
        Read an answer's ``data``. A variable's type missing from ``variables`` is taken from the scene that
        uses it (each scene lists ``name`` and ``variable_type``); a list of named variables is read like a
        dict.

        :raises HeyGenMalformedResponseError: naming every part of the answer that cannot be read (``data``
            not an object, ``variables`` not an object, a variable or a scene not an object): the row could
            not be checked against the template, and a render would use defaults it cannot see.
        """
        problems = answer_problems(data)
        if problems:
            shown = "; ".join(problems[:_PROBLEMS_SHOWN])
            if len(problems) > _PROBLEMS_SHOWN:
                shown += f"; and {len(problems) - _PROBLEMS_SHOWN} more"
            raise HeyGenMalformedResponseError(
                f"GET /v3/templates/{template_id} answered a template that cannot be read ({shown}): "
                "nothing was rendered",
                status_code=200,
            )
        scenes = list(data.get("scenes") or [])
        scene_types = {
            str(used.get("name")): used.get("variable_type")
            for scene in scenes
            for used in scene.get("variables") or []
            if isinstance(used, dict) and used.get("name")
        }
        raw = data.get("variables") or {}
        if isinstance(raw, list):
            raw = {item["name"]: item for item in raw}
        variables: dict[str, TemplateVariable] = {}
        for name, value in raw.items():
            kind = value.get("type") or scene_types.get(str(name))
            variables[str(name)] = TemplateVariable.model_validate({**value, "name": str(name), "type": kind})
        for name, kind in scene_types.items():
            variables.setdefault(name, TemplateVariable(name=name, type=kind))
        return cls(
            id=str(data.get("id") or template_id),
            name=str(data.get("name") or ""),
            aspect_ratio=data.get("aspect_ratio") if isinstance(data.get("aspect_ratio"), str) else None,
            variables=variables,
            scenes=scenes,
        )

    def scripts(self, scene_ids: list[str] | None = None) -> list[str]:
        """The scripts of the scenes to render (``scene_ids`` in order, else every scene), placeholders left in."""
        by_id = {str(scene.get("scene_id")): scene for scene in self.scenes}
        chosen = [by_id[scene_id] for scene_id in scene_ids if scene_id in by_id] if scene_ids else self.scenes
        return [str(scene.get("script") or "") for scene in chosen]


#: How many of an unreadable answer's problems an error lists.
_PROBLEMS_SHOWN = 5


def answer_problems(data: Any) -> list[str]:
    """
    What makes a ``GET /v3/templates/{id}`` answer's ``data`` unreadable; empty when it can be read.

    Readable: an object whose ``variables``, when given, is an object of variable objects (or a list of
    variable objects, each with a ``name``), and whose ``scenes``, when given, is a list of objects.
    Problems name the part and its kind, never its content (an answer may echo anything).
    """
    if not isinstance(data, dict):
        return [f"data is {_kind(data)}, not an object"]
    problems = []
    variables = data.get("variables", {})
    if isinstance(variables, dict):
        problems += [
            f"variables.{str(name)[:60]} is {_kind(entry)}, not an object"
            for name, entry in variables.items()
            if not isinstance(entry, dict)
        ]
    elif isinstance(variables, list):
        for index, entry in enumerate(variables):
            if not isinstance(entry, dict):
                problems.append(f"variables[{index}] is {_kind(entry)}, not an object")
            elif not _text(entry.get("name")):
                problems.append(f"variables[{index}] has no name")
    else:
        problems.append(f"variables is {_kind(variables)}, not an object")
    scenes = data.get("scenes")
    if scenes is not None and not isinstance(scenes, list):
        problems.append(f"scenes is {_kind(scenes)}, not a list")
    elif scenes:
        problems += [
            f"scenes[{index}] is {_kind(scene)}, not an object"
            for index, scene in enumerate(scenes)
            if not isinstance(scene, dict)
        ]
    return problems


def _kind(value: Any) -> str:
    """What a JSON value is, in words (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def parse_template_id(value: Any) -> str:
    """
    The ``template_id`` parameter as text.

    :raises HeyGenRequestValidationError: when it is empty.
    """
    template_id = str(value or "").strip()
    if not template_id:
        raise HeyGenRequestValidationError(["template_id: must not be empty"])
    return template_id


def parse_row(value: Any) -> Mapping[str, Any]:
    """
    A row's ``variables`` parameter as an object (JSON or Python text of one is read too).

    :raises HeyGenRequestValidationError: when it is not an object.
    """
    row = parse_structured_param("variables", value)
    if not isinstance(row, Mapping):
        raise HeyGenRequestValidationError([f"variables: must be an object (got {type(row).__name__})"])
    return row


@dataclass(frozen=True)
class TemplateRow:
    """
    One render's parameters checked against its template (:func:`check_template_row`): the generate
    call's parts, and every problem found.

    :param variables: the generate call's ``variables``, those that fit.
    :param dimension: ``dimension`` as an object, or ``None``.
    :param scene_ids: ``scene_ids`` as a list, or ``None``.
    :param extra_fields: more fields of the generate call.
    :param variable_problems: each missing, unknown or mistyped variable.
    :param problems: what is wrong with the other parameters (or with ``variables`` as a whole).
    """

    variables: dict[str, Any]
    dimension: Any
    scene_ids: Any
    extra_fields: Mapping[str, Any]
    variable_problems: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def all_problems(self) -> tuple[str, ...]:
        return self.variable_problems + self.problems


def check_template_row(
    template: Template,
    *,
    variables: Any,
    dimension: Any = None,
    scene_ids: Any = None,
    extra_fields: Any = None,
    require_all: bool = True,
) -> TemplateRow:
    """
    Check one render of ``template`` as the operator's parameters give it (objects, or JSON text of
    them); every problem is collected, none raised, so a campaign's preflight can list them all.

    :param template: the template the row renders.
    :param variables: the row's variables (see :func:`template_variables`).
    :param dimension: ``{"width", "height"}``: even pixels from 128 to 4096.
    :param scene_ids: the template's scenes to render, in order.
    :param extra_fields: more fields of the generate call, an object.
    :param require_all: as :func:`template_variables`'s.
    """
    problems: list[str] = []

    def read(name: str, value: Any) -> Any:
        try:
            return parse_structured_param(name, value)
        except HeyGenRequestValidationError as error:
            problems.extend(error.problems)
            return None

    parsed_dimension = read("dimension", dimension)
    parsed_scene_ids = read("scene_ids", scene_ids)
    parsed_extra_fields = read("extra_fields", extra_fields)
    problems += _option_problems(parsed_dimension, parsed_scene_ids, parsed_extra_fields or {})
    problems += _scene_problems(template, parsed_scene_ids)
    try:
        row = parse_row(variables)
    except HeyGenRequestValidationError as error:
        problems[:0] = error.problems
        checked: dict[str, Any] = {}
        variable_problems: list[str] = []
    else:
        checked, variable_problems = template_variables(template, row, require_all=require_all)
    return TemplateRow(
        variables=checked,
        dimension=parsed_dimension,
        scene_ids=parsed_scene_ids,
        extra_fields=parsed_extra_fields if isinstance(parsed_extra_fields, Mapping) else {},
        variable_problems=tuple(variable_problems),
        problems=tuple(problems),
    )


def _option_problems(dimension: Any, scene_ids: Any, extra_fields: Any) -> list[str]:
    problems = []
    if dimension is not None:
        sides = dimension if isinstance(dimension, Mapping) else {}
        for side in ("width", "height"):
            value = sides.get(side)
            if isinstance(value, bool) or not isinstance(value, int) or not 128 <= value <= 4096 or value % 2:
                problems.append(f"dimension.{side}: must be an even number of pixels from 128 to 4096 (got {value!r})")
    if scene_ids is not None and (
        not isinstance(scene_ids, list) or not all(isinstance(item, str) and item for item in scene_ids)
    ):
        problems.append(f"scene_ids: must be a list of scene ids (got {scene_ids!r})"[:200])
    if not isinstance(extra_fields, Mapping):
        problems.append(f"extra_fields: must be an object (got {type(extra_fields).__name__})")
    return problems


def _scene_problems(template: Template, scene_ids: Any) -> list[str]:
    if not isinstance(scene_ids, list) or not template.scenes:
        return []
    known = {str(scene.get("scene_id")) for scene in template.scenes}
    return [
        f"scene_ids[{index}]: template {template.id} has no scene {scene_id!r}"
        for index, scene_id in enumerate(scene_ids)
        if isinstance(scene_id, str) and scene_id not in known
    ]


def template_variables(
    template: Template, row: Mapping[str, Any], *, require_all: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """
    The generate call's ``variables`` for ``row``, and every problem with it (empty when it fits).

    Each problem names the variable and the rule: ``variables.logo: the template has no variable of this
    name``, ``variables.region: missing (text variable)``, ``variables.presenter: must be ... (got ...)``.

    :param template: the template the row renders.
    :param row: variable name to a plain value or a ``{"type", "properties"}`` object.
    :param require_all: a variable the row leaves out is a problem (it would render the template's default,
        usually a placeholder); ``False`` lets HeyGen use the default.
    """
    problems: list[str] = []
    variables: dict[str, Any] = {}
    known = ", ".join(sorted(template.variables)) or "none"
    for name, value in row.items():
        where = f"variables.{name}"
        variable = template.variables.get(str(name))
        if variable is None:
            problems.append(f"{where}: template {template.id} has no variable of this name (it has: {known})")
            continue
        converted = _variable_value(variable, value)
        if isinstance(converted, str):
            problems.append(f"{where}: {converted}")
        else:
            variables[variable.name] = converted
    if require_all:
        for name, variable in template.variables.items():
            if name not in row:
                problems.append(f"variables.{name}: missing ({variable.type} variable of template {template.id})")
    return variables, problems


def _variable_value(variable: TemplateVariable, value: Any) -> dict[str, Any] | str:
    """The variable in the generate call's shape, or the rule ``value`` breaks."""
    kind = variable.type
    if isinstance(value, Mapping):
        given_type = value.get("type", kind)
        if kind not in ("unknown", given_type):
            return f"is of type {kind}, not {given_type!r}"
        properties = value.get("properties")
        if not isinstance(properties, Mapping):
            return "must be a plain value or an object with type and properties"
        needed = VALUE_PROPERTIES.get(kind)
        if needed and not any(_text(properties.get(key)) for key in needed):
            return f"needs properties.{' or properties.'.join(needed)} ({kind} variable)"
        if kind in MEDIA_TYPES and properties.get("url") is not None and not _is_url(properties.get("url")):
            return f"properties.url must be an http(s) URL (got {str(properties.get('url'))[:60]!r})"
        return {"name": variable.name, "type": given_type, "properties": dict(properties)}
    if kind == "unknown":
        return "the template does not say this variable's type: give it as an object with type and properties"
    if kind not in PLAIN_VALUE_PROPERTY:
        return f"the variable type {kind!r} is new to this provider: give it as an object with type and properties"
    if kind == "text":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"must be text (got {type(value).__name__})"
        text = str(value)
        if not text.strip():
            return "must not be empty (text variable)"
        return _shaped(variable, {"content": text})
    if not _text(value):
        return f"must be a non-empty string ({kind} variable; got {type(value).__name__} {str(value)[:40]!r})"
    if kind in MEDIA_TYPES and not _is_url(value):
        return (
            f"must be an http(s) URL of the {kind}, or an object with properties.asset_id ({kind} variable; "
            f"got {str(value)[:60]!r})"
        )
    properties = {PLAIN_VALUE_PROPERTY[kind]: value.strip()}
    if kind == "character":
        # A character keeps the kind of the template's default (an avatar or a talking photo).
        properties["type"] = variable.properties.get("type") or "avatar"
    return _shaped(variable, properties)


def _shaped(variable: TemplateVariable, properties: dict[str, Any]) -> dict[str, Any]:
    return {"name": variable.name, "type": variable.type, "properties": properties}


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("https://", "http://"))
