"""The base model, its escape hatch for fields the provider does not know yet, and the error formatter."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from heygen_provider.exceptions import HeyGenRequestValidationError

EXTRA_FIELDS = "extra_fields"
#: Levels of lists and objects allowed inside ``extra_fields``; HeyGen's own objects are a few levels deep.
MAX_EXTRA_DEPTH = 32


class RequestModel(BaseModel):
    """
    Base of every request model: unknown keys are errors, never silently dropped.

    A field HeyGen added after this provider was released can still be sent: put it in
    ``extra_fields`` on the object it belongs to, and it is merged into that object's JSON verbatim.
    """

    model_config = ConfigDict(extra="forbid", validate_default=False, frozen=True)

    extra_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields sent verbatim in this object, for API fields the provider does not know yet.",
    )

    @model_serializer(mode="wrap")
    def _merge_extra_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        extra = data.pop(EXTRA_FIELDS, None) or {}
        known = set(type(self).model_fields) - {EXTRA_FIELDS}
        clashes = sorted(known & set(extra))
        if clashes:
            # Checked at serialization too, so a model built with model_construct cannot bypass it.
            raise ValueError(f"extra_fields repeats known field(s) {clashes}; set them directly")
        data.update(extra)
        return data

    @field_validator(EXTRA_FIELDS)
    @classmethod
    def _check_json_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Sent verbatim, so only what JSON carries exactly: pydantic would send NaN as null, and fail
        # late (after validation) on bytes that are not UTF-8, other objects, or very deep nesting.
        problem = _unsendable(value)
        if problem is not None:
            path, rule, got = problem
            raise PydanticCustomError("json_value", rule + "{got}", {"field": path, "got": got})
        return value

    @model_validator(mode="after")
    def _check_extra_fields(self) -> Self:
        clashes = sorted((set(type(self).model_fields) - {EXTRA_FIELDS}) & set(self.extra_fields))
        if clashes:
            raise PydanticCustomError(
                "extra_fields_clash",
                "repeats the known field(s) {fields}: set them directly",
                {"fields": ", ".join(clashes), "field": EXTRA_FIELDS},
            )
        return self


def _unsendable(extra: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(path, rule, got)`` of the first value in ``extra`` that JSON cannot carry verbatim, if any."""
    pending: list[tuple[str, Any, int]] = [(key, value, 1) for key, value in reversed(extra.items())]
    while pending:  # a loop, not recursion: the nesting is what is being checked
        path, value, depth = pending.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth > MAX_EXTRA_DEPTH:
                return path, f"is nested more than {MAX_EXTRA_DEPTH} levels deep", ""
            if isinstance(value, dict):
                items = [(f"{path}.{key}", child) for key, child in value.items()]
                if not all(isinstance(key, str) for key in value):
                    return path, "must have text keys", ""
            else:
                items = [(f"{path}[{index}]", child) for index, child in enumerate(value)]
            pending.extend((child_path, child, depth + 1) for child_path, child in reversed(items))
        elif isinstance(value, float) and not math.isfinite(value):
            return path, "must be a finite number", f" (got {value!r})"
        elif value is not None and not isinstance(value, (str, int, float)):
            return (
                path,
                "must be a JSON value: text, a number, true, false, null, a list or an object",
                f" (got {type(value).__name__})",
            )
    return None


def conditional_error(field: str, rule: str, **context: Any) -> PydanticCustomError:
    """
    An error for a rule that involves several fields, reported at ``field``.

    :param field: the field to blame; the formatter appends it to the model's path.
    :param rule: the rule, e.g. ``"is required when type is 'text'"``.
    """
    return PydanticCustomError("conditional", rule, {"field": field, **context})


def range_error(low: float, high: float) -> PydanticCustomError:
    return PydanticCustomError("range", "must be between {low} and {high}", {"low": low, "high": high})


def check_http_url(value: str) -> str:
    """Accept an absolute http(s) URL, kept exactly as given so the JSON matches what the user wrote."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PydanticCustomError("url", "must be an absolute http:// or https:// URL")
    return value


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": (
        "is not a known field (check the spelling; to send a field the provider does not know yet, "
        "put it in extra_fields)"
    ),
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be a list",
    "finite_number": "must be a finite number",
}


def format_validation_error(error: ValidationError) -> list[str]:
    """
    One ``path: rule (got value)`` line per problem, e.g.
    ``video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got 2.0)``.
    """
    problems = []
    for detail in error.errors(include_url=False):
        context = detail.get("ctx") or {}
        location = list(detail["loc"])
        if "field" in context:
            location.append(context["field"])
        path = _format_path(location) or "request"
        problems.append(f"{path}: {_rule(detail['type'], context, detail['msg'])}{_got(detail)}")
    return problems


def raise_for_validation(error: ValidationError) -> HeyGenRequestValidationError:
    """The provider's exception for a pydantic error, to be raised ``from None``."""
    return HeyGenRequestValidationError(format_validation_error(error))


def _format_path(location: list[Any]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _rule(error_type: str, context: dict[str, Any], default: str) -> str:
    if error_type in _MESSAGES:
        return _MESSAGES[error_type]
    if error_type == "literal_error":
        return f"must be one of {context.get('expected', '')}"
    if error_type == "too_short":
        return f"must have at least {context.get('min_length')} item(s)"
    if error_type == "too_long":
        return f"must have at most {context.get('max_length')} item(s)"
    if error_type == "string_too_short":
        return "must not be empty" if context.get("min_length") == 1 else default
    if error_type == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    # Our own PydanticCustomError messages are already phrased as rules.
    message = default.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _got(detail: Any) -> str:
    if detail["type"] in ("missing", "conditional", "extra_fields_clash"):
        return ""
    value = detail.get("input")
    if isinstance(value, (dict, list)) or value is None:
        return ""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f" (got {shown})"
