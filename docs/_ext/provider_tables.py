"""
Tables generated from the provider's own code at build time, so the docs cannot drift from it.

``.. heygen-status-map::``
    HeyGen's status values (legacy and v3) against the spec's set, from
    :data:`heygen_provider.models.status.SERVICE_STATUS_MAP` and ``map_service_status``.
``.. heygen-task-retries::``
    every exception class and whether an Airflow task retry may follow it (``is_retryable``).
``.. heygen-http-errors::``
    each HTTP status and transport failure: the exception class (``error_class_for_status``), its
    docstring, and whether the shared retry policy retries it for a GET and for the paid create POST,
    found by asking :class:`heygen_provider.retry.RetryPolicy` itself.
``.. heygen-connection-extras::`` and ``.. heygen-connection-form::``
    the connection's extras and form, from :mod:`heygen_provider.connection`.
``.. provider-requirements::``
    the runtime requirements, from ``pyproject.toml``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

# Where each status value comes from, per heygen-api.md. The mapping itself is read from the code.
LEGACY_STATUSES = ("pending", "waiting", "processing", "completed", "failed")
V3_STATUSES = ("queued", "processing", "completed", "failed", "not_found")


def cell(text: Any) -> str:
    """Plain text made safe for a table cell."""
    value = " ".join(str(text).split())
    for char in ("\\", "*", "`", "|", "_"):
        value = value.replace(char, "\\" + char)
    return value or " "


def list_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, widths: str | None = None, css: str = ""
) -> list[str]:
    """A ``list-table`` whose cells are already reStructuredText."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    if css:
        lines.append(f"   :class: {css}")
    lines.append("")
    for row in [header, *rows]:
        for index, value in enumerate(row):
            lines.append(f"   {'*' if index == 0 else ' '} - {value}")
    lines.append("")
    return lines


class GeneratedTable(SphinxDirective):
    """Base: subclasses return reStructuredText lines, parsed in place."""

    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        source = self.get_source_info()[0]
        self.state.nested_parse(StringList(self.lines(), source=source), self.content_offset, container)
        return container.children


class StatusMap(GeneratedTable):
    def lines(self) -> list[str]:
        from heygen_provider.models.status import SERVICE_STATUS_MAP, VideoStatus, map_service_status

        values = list(dict.fromkeys([*LEGACY_STATUSES, *V3_STATUSES, *SERVICE_STATUS_MAP]))
        unknown = map_service_status("a-value-heygen-may-add-some-day")
        rows = []
        for status in VideoStatus:
            mapped = [value for value in values if map_service_status(value) is status]

            def literal(group: Iterable[str], mapped: list[str] = mapped) -> str:
                shown = [f"``{value}``" for value in group if value in mapped]
                unlisted = [value for value in shown if value.strip("`") not in SERVICE_STATUS_MAP]
                return ", ".join(s + (" (unlisted)" if s in unlisted else "") for s in shown) or "—"

            others = [value for value in mapped if value not in LEGACY_STATUSES and value not in V3_STATUSES]
            if status is VideoStatus.SUCCESS:
                outcome = "task succeeds with the result payload"
            elif status.is_terminal:
                outcome = f"``HeyGenRenderError`` ({status.value}); never success"
            else:
                outcome = "keep waiting until a deadline"
            rows.append(
                [
                    f"**{status.value}**",
                    literal(LEGACY_STATUSES),
                    literal(V3_STATUSES),
                    ", ".join(f"``{value}``" for value in others) or "—",
                    "yes" if status.is_terminal else "no",
                    outcome,
                ]
            )
        rows.append(["*any other value*", "—", "—", "—", "no", f"read as **{unknown.value}**: keep waiting"])
        return list_table(
            [
                "Spec status",
                "Legacy API values",
                "v3 API values",
                "Other spellings accepted",
                "Terminal",
                "What the operator and sensor do",
            ],
            rows,
            widths="13 19 19 16 9 24",
            css="status-map",
        )


def _first_paragraph(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _retried(method: str, error: Any, *, idempotent: bool | None = None) -> bool:
    from heygen_provider.retry import RetryPolicy

    policy = RetryPolicy(attempts=3, random_fraction=lambda: 0.0)
    return policy.start(method, idempotent=idempotent).delay_after(error) is not None


def _airflow_retry(error_class: type) -> str:
    from heygen_provider.exceptions import is_retryable

    return "may retry" if is_retryable(error_class.__new__(error_class)) else "**fails**, no retry"


class HttpErrors(GeneratedTable):
    STATUSES = (400, 401, 402, 403, 404, 409, 422, 424, 429, 500, 502, 503, 504)

    def lines(self) -> list[str]:
        from heygen_provider.exceptions import HeyGenMalformedResponseError, HeyGenTransportError
        from heygen_provider.hooks.answers import REQUEST_IN_PROGRESS, error_class_for_status
        from heygen_provider.hooks.calls import transport_error
        from heygen_provider.retry import TransportFailure

        yes, no = "retried", "**not** retried"
        rows = []
        for status in self.STATUSES:
            error_class = error_class_for_status(status)
            error = error_class("example", status_code=status)
            rows.append(
                [
                    f"HTTP {status}" + (", any code but ``request_in_progress``" if status == 409 else ""),
                    f":class:`~heygen_provider.exceptions.{error_class.__name__}`",
                    cell(_first_paragraph(error_class)),
                    yes if _retried("GET", error) else no,
                    yes if _retried("POST", error) else no,
                    _airflow_retry(error_class),
                ]
            )
        in_progress_class = error_class_for_status(409, REQUEST_IN_PROGRESS)
        in_progress = in_progress_class("example", status_code=409, code=REQUEST_IN_PROGRESS)
        rows.append(
            [
                f"HTTP 409 ``{REQUEST_IN_PROGRESS}``",
                f":class:`~heygen_provider.exceptions.{in_progress_class.__name__}`",
                cell(_first_paragraph(in_progress_class)),
                yes if _retried("GET", in_progress) else no,
                (yes if _retried("POST", in_progress, idempotent=True) else no) + " (keyed creates only)",
                _airflow_retry(in_progress_class),
            ]
        )
        malformed = HeyGenMalformedResponseError("example", status_code=200)
        rows.append(
            [
                "2xx that is not HeyGen's JSON",
                f":class:`~heygen_provider.exceptions.{HeyGenMalformedResponseError.__name__}`",
                cell(_first_paragraph(HeyGenMalformedResponseError)),
                yes if _retried("GET", malformed) else no,
                yes if _retried("POST", malformed) else no,
                _airflow_retry(HeyGenMalformedResponseError),
            ]
        )
        for failure, label in (
            (TransportFailure.NOT_CONNECTED, "connection never established (refused, DNS, connect timeout)"),
            (TransportFailure.NO_RESPONSE, "connection reset or read timeout after sending"),
        ):
            error = transport_error("GET", failure, "docs")
            rows.append(
                [
                    cell(label),
                    f":class:`~heygen_provider.exceptions.{HeyGenTransportError.__name__}`",
                    cell(_first_paragraph(HeyGenTransportError)),
                    yes if _retried("GET", error) else no,
                    yes if _retried("POST", error) else no,
                    _airflow_retry(HeyGenTransportError),
                ]
            )
        return list_table(
            ["Answer", "Exception", "Meaning", "Status calls (GET)", "Create call (POST)", "Airflow task retry"],
            rows,
            widths="14 22 30 11 11 12",
        )


class TaskRetries(GeneratedTable):
    """Every exception class the package raises, and whether an Airflow task retry may follow it."""

    def lines(self) -> list[str]:
        from heygen_provider import exceptions

        classes = sorted(
            (
                value
                for value in vars(exceptions).values()
                if isinstance(value, type) and issubclass(value, exceptions.HeyGenError)
            ),
            key=lambda error_class: (exceptions.is_retryable(error_class.__new__(error_class)), error_class.__name__),
        )
        rows = [
            [
                f":class:`~heygen_provider.exceptions.{error_class.__name__}`",
                _airflow_retry(error_class),
                cell(_first_paragraph(error_class)),
            ]
            for error_class in classes
        ]
        return list_table(["Exception", "Airflow task retry", "Meaning"], rows, widths="30 16 54")


def _schema_type(schema: dict[str, Any]) -> str:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    return " or ".join(kind for kind in kinds if kind != "null")


class ConnectionExtras(GeneratedTable):
    def lines(self) -> list[str]:
        from heygen_provider.connection import CONNECTION_EXTRA_FIELDS, DEPRECATED_EXTRA_FIELDS

        rows = []
        # The form's fields in its order, then the deprecated ones it no longer shows.
        for name, spec in {**CONNECTION_EXTRA_FIELDS, **DEPRECATED_EXTRA_FIELDS}.items():
            schema = spec["schema"]
            if "enum" in schema:
                allowed = ", ".join(f"``{value}``" for value in schema["enum"])
            elif "minimum" in schema:
                allowed = f"{schema['minimum']} to {schema['maximum']}"
            else:
                allowed = "—"
            rows.append(
                [
                    f"``{name}``",
                    cell(spec["label"]) if name in CONNECTION_EXTRA_FIELDS else "(not in the form)",
                    _schema_type(schema),
                    allowed,
                    f"``{json.dumps(schema.get('default'))}``",
                    cell(spec["description"]),
                ]
            )
        return list_table(
            ["Extra", "Form label", "Type", "Allowed", "Default", "Meaning"], rows, widths="16 18 10 14 10 32"
        )


class ConnectionForm(GeneratedTable):
    FIELDS = (("host", "Host"), ("login", "Login"), ("password", "Password"), ("port", "Port"), ("schema", "Schema"))

    def lines(self) -> list[str]:
        from heygen_provider.connection import UI_FIELD_BEHAVIOUR

        hidden = set(UI_FIELD_BEHAVIOUR.get("hidden-fields", []))
        labels = UI_FIELD_BEHAVIOUR.get("relabeling", {})
        placeholders = UI_FIELD_BEHAVIOUR.get("placeholders", {})
        rows = []
        for key, standard in self.FIELDS:
            if key in hidden:
                rows.append([standard, "hidden", "—"])
            else:
                label = labels.get(key, standard)
                placeholder = placeholders.get(key)
                rows.append(
                    [
                        f"**{cell(label)}**" + (f" (Airflow's *{standard}*)" if label != standard else ""),
                        "shown",
                        f"``{placeholder}``" if placeholder else "—",
                    ]
                )
        rows.append(["Extra (JSON)", "shown", f"``{placeholders['extra']}``" if "extra" in placeholders else "—"])
        return list_table(["Field", "In the form", "Placeholder"], rows, widths="30 15 55")


class Requirements(GeneratedTable):
    def lines(self) -> list[str]:
        import tomllib

        pyproject = Path(self.env.srcdir).parent / "pyproject.toml"
        if not pyproject.is_file():
            raise self.error(f"provider-requirements: {pyproject} not found")
        self.env.note_dependency(str(pyproject))
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        rows = [["Python", f"``{project['requires-python']}``"]]
        for requirement in project["dependencies"]:
            name = requirement.split(">", 1)[0].split("=", 1)[0].split("<", 1)[0].strip()
            rows.append([f"``{name}``", f"``{requirement[len(name) :].strip() or 'any'}``"])
        return list_table(["Package", "Version"], rows, widths="40 60")


class SummaryExample(GeneratedTable):
    """The HTML summary of a few sample results, rendered by the provider's own function, in a frame."""

    def lines(self) -> list[str]:
        import base64
        import html

        import heygen_provider
        from heygen_provider.campaign.summary import render_summary_html

        asset = Path(heygen_provider.__file__).parent / "testing" / "emulator" / "assets" / "thumbnail.jpg"
        thumbnail = f"data:image/jpeg;base64,{base64.b64encode(asset.read_bytes()).decode()}" if asset.is_file() else ""
        samples = [
            ("North", "success", 38.0),
            ("South", "success", 41.0),
            ("East", "success", 36.0),
            ("West", "failed", None),
        ]
        videos = [
            {
                "video_id": f"{index:032x}",
                "title": f"Weekly figures: {region}",
                "status": status,
                "duration": duration,
                "video_url": f"https://example.invalid/{region.lower()}.mp4" if status == "success" else None,
                "thumbnail_url": thumbnail if status == "success" else None,
            }
            for index, (region, status, duration) in enumerate(samples, start=1)
        ]
        page = render_summary_html(videos, title="Weekly videos 2026-11-23")
        srcdoc = html.escape(page).replace("\n", "&#10;")
        return [
            ".. raw:: html",
            "",
            f'   <iframe class="summary-example" title="Example HTML summary" srcdoc="{srcdoc}"></iframe>',
            "",
        ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("heygen-summary-example", SummaryExample)
    app.add_directive("heygen-status-map", StatusMap)
    app.add_directive("heygen-http-errors", HttpErrors)
    app.add_directive("heygen-task-retries", TaskRetries)
    app.add_directive("heygen-connection-extras", ConnectionExtras)
    app.add_directive("heygen-connection-form", ConnectionForm)
    app.add_directive("provider-requirements", Requirements)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
