"""
``.. heygen-benchmarks::``: the latest benchmark results as tables, and their plots, at build time.

``make bench`` writes ``bench/results/latest.json`` and SVG plots into ``docs/_static/benchmarks/``.
This directive renders whatever the JSON holds, without knowing its exact schema:

* top-level scalars become a "run" table (date, machine, ...);
* a list of objects becomes one table, a column per key;
* an object of scalars becomes a two-column table; an object of objects a table with a row per key;
* deeper nesting gets a sub-heading per key.

When the results or the plots are missing (a fresh clone), it says how to produce them instead, without
a warning, so the docs still build with warnings as errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from provider_tables import cell, list_table  # docs/_ext is on sys.path (see conf.py)
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
PLOT_SUFFIXES = (".svg", ".png")


def humanise(key: str) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0 or 0.001 <= abs(value) < 1e7:
            return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value):
        return ", ".join(format_value(item) for item in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list)) or (
        isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value)
    )


#: Wider tables are shown transposed (a row per measure), when that gives fewer columns.
MAX_COLUMNS = 8


def _row_label(item: dict[str, Any], index: int) -> str:
    words = [str(value) for value in item.values() if isinstance(value, str)]
    if isinstance(item.get("n"), int):
        words.append(f"n={item['n']:,}")
    return " ".join(words) or f"#{index + 1}"


def _records_table(records: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys(key for item in records for key in item))
    # Empty objects and lists say nothing in a table.
    columns = [c for c in columns if any(item.get(c) not in (None, {}, []) for item in records)]
    if len(columns) > MAX_COLUMNS and len(records) < len(columns):
        header = ["Measure", *(cell(_row_label(item, index)) for index, item in enumerate(records))]
        rows = [[cell(humanise(c))] + [cell(format_value(item.get(c))) for item in records] for c in columns]
        return list_table(header, rows, css="benchmark")
    rows = [[cell(format_value(item.get(column))) for column in columns] for item in records]
    return list_table([cell(humanise(column)) for column in columns], rows, css="benchmark")


def render(data: Any, title: str = "") -> list[str]:
    """reStructuredText for any JSON value; ``title`` names it in sub-headings."""
    lines: list[str] = []
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return _records_table(data)
    if isinstance(data, dict):
        scalars = {key: value for key, value in data.items() if _is_scalar(value)}
        nested = {key: value for key, value in data.items() if not _is_scalar(value)}
        if scalars:
            rows = [[cell(humanise(key)), cell(format_value(value))] for key, value in scalars.items()]
            lines += list_table(["Measure", "Value"], rows, css="benchmark")
        # Goals first: they say whether the figures below are good enough.
        for key in sorted(nested, key=lambda name: name != "goals"):
            # A container such as "benchmarks" needs no prefix: its children name themselves.
            prefixed = title and title.lower() not in ("benchmarks", "results")
            heading = f"{title} · {humanise(key)}" if prefixed else humanise(key)
            lines += [f".. rubric:: {cell(heading)}", ""]
            lines += render(nested[key], heading)
        return lines
    return [cell(format_value(data)), ""]


class Benchmarks(SphinxDirective):
    """Render ``:results:`` (JSON) and every plot in ``:plots:`` (a folder under the docs source)."""

    option_spec: ClassVar[dict[str, Any]] = {"results": directives.unchanged, "plots": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        results_option = self.options.get("results", "../bench/results/latest.json")
        plots_option = self.options.get("plots", "_static/benchmarks")
        _, results_path = self.env.relfn2path(results_option, self.env.docname)
        _, plots_path = self.env.relfn2path("/" + plots_option.strip("/"), self.env.docname)
        lines: list[str] = []

        results = Path(results_path)
        if results.is_file():
            self.env.note_dependency(str(results))
            try:
                data = json.loads(results.read_text(encoding="utf-8"))
            except ValueError as error:
                logger.warning(
                    "heygen-benchmarks: %s is not valid JSON: %s", results, error, location=self.get_location()
                )
                data = None
            if data is not None:
                lines += render(data)
        else:
            lines += [
                ".. note::",
                "",
                "   No benchmark results in this build: ``bench/results/latest.json`` is written by",
                "   ``make bench``. Run it, then ``make docs``, to see the tables here.",
                "",
            ]

        plots = sorted(p for p in Path(plots_path).glob("*") if p.suffix.lower() in PLOT_SUFFIXES)
        if plots:
            lines += [".. rubric:: Plots", ""]
            for plot in plots:
                self.env.note_dependency(str(plot))
                caption = humanise(plot.stem.replace("-", " "))
                lines += [
                    f".. figure:: /{plots_option.strip('/')}/{plot.name}",
                    f"   :alt: {caption}",
                    "   :class: benchmark-plot",
                    "   :figclass: benchmark-plot",
                    "",
                    f"   {cell(caption)}",
                    "",
                ]
        else:
            lines += [
                ".. note::",
                "",
                f"   No plots yet: ``make bench`` draws them into ``docs/{plots_option.strip('/')}/``.",
                "",
            ]

        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("heygen-benchmarks", Benchmarks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
