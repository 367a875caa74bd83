"""
Plots of the benchmark results for the docs, as plain SVG written here (no plotting library, so the
docs build needs no new dependency).

    .venv/bin/python bench/plot.py [bench/results/latest.json]

Writes ``docs/_static/benchmarks/*.svg``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from _common import REPO_DIR, RESULTS_DIR

OUTPUT_DIR = REPO_DIR / "docs" / "_static" / "benchmarks"
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1")
WIDTH, HEIGHT = 720, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 90


def _text(x: float, y: float, content: str, size: int = 12, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif" {extra}>{escape(content)}</text>'
    )


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= value)


def _frame(title: str, y_label: str, top: float) -> list[str]:
    """Title, y axis with five gridlines, and the y label."""
    plot_height = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(WIDTH / 2, 24, title, 15, extra='font-weight="bold"'),
        _text(16, TOP + plot_height / 2, y_label, 12, extra=f'transform="rotate(-90 16 {TOP + plot_height / 2})"'),
    ]
    for step in range(6):
        value = top * step / 5
        y = TOP + plot_height * (1 - step / 5)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(LEFT - 6, y + 4, f"{value:g}", 11, "end"))
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    x = LEFT
    for index, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{COLOURS[index % len(COLOURS)]}"/>')
        parts.append(_text(x + 16, HEIGHT - 12, name, 11, "start"))
        x += 24 + 7 * len(name)
    return parts


def _goal_line(value: float, top: float, label: str) -> list[str]:
    plot_height = HEIGHT - TOP - BOTTOM
    y = TOP + plot_height * (1 - value / top)
    return [
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c00" stroke-dasharray="6 4"/>',
        _text(WIDTH - RIGHT - 4, y - 4, label, 11, "end", 'fill="#c00"'),
    ]


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    y_label: str,
    goal: tuple[float, str] | None = None,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series; missing values are skipped."""
    values = [value for column in series.values() for value in column if value is not None]
    top = _nice_top(max([*values, goal[0] if goal else 0.0], default=1.0) * 1.1)
    parts = _frame(title, y_label, top)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_width / max(1, len(categories))
    bar = group * 0.8 / max(1, len(series))
    for position, category in enumerate(categories):
        x0 = LEFT + group * position + group * 0.1
        parts.append(_text(LEFT + group * (position + 0.5), TOP + plot_height + 16, category, 11))
        for index, column in enumerate(series.values()):
            value = column[position]
            if value is None:
                continue
            height = plot_height * value / top
            x, y = x0 + bar * index, TOP + plot_height - height
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.92:.1f}" height="{height:.1f}" fill="{colour}"/>'
            )
            parts.append(_text(x + bar * 0.46, y - 3, f"{value:.3g}", 9))
    if goal:
        parts += _goal_line(goal[0], top, goal[1])
    if len(series) > 1:
        parts += _legend(list(series))
    return "\n".join([*parts, "</svg>\n"])


def line_chart(title: str, xs: Sequence[float], series: dict[str, Sequence[float]], x_label: str, y_label: str) -> str:
    """Lines with point markers over a linear x axis."""
    top = _nice_top(max((value for column in series.values() for value in column), default=1.0) * 1.1)
    parts = _frame(title, y_label, top)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    left, right = min(xs), max(xs)
    span = (right - left) or 1.0

    def point(x: float, y: float) -> tuple[float, float]:
        return LEFT + 20 + (plot_width - 40) * (x - left) / span, TOP + plot_height * (1 - y / top)

    for x in xs:
        parts.append(_text(point(x, 0)[0], TOP + plot_height + 16, f"{x:g}", 11))
    parts.append(_text(LEFT + plot_width / 2, TOP + plot_height + 36, x_label, 12))
    for index, column in enumerate(series.values()):
        colour = COLOURS[index % len(COLOURS)]
        points = [point(x, y) for x, y in zip(xs, column, strict=True)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), value in zip(points, column, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
            parts.append(_text(x, y - 8, f"{value:.3g}", 10))
    parts += _legend(list(series))
    return "\n".join([*parts, "</svg>\n"])


# -- the plots ---------------------------------------------------------------------------------------


def triggerer_plots(figures: dict[str, Any]) -> dict[str, str]:
    runs = figures["runs"]
    variants = list(dict.fromkeys(run["variant"] for run in runs))
    sizes = sorted({run["n"] for run in runs})
    by_key = {(run["variant"], run["n"]): run for run in runs}
    cpu = {
        f"N={n:,} ({by_key[(variants[0], n)]['interval_s']:g} s)": [
            by_key[(variant, n)]["cpu_ms_per_poll"] if (variant, n) in by_key else None for variant in variants
        ]
        for n in sizes
    }
    triggers = [by_key[("trigger", n)] for n in sizes if ("trigger", n) in by_key]
    lag = {
        "p99": [run["lag_p99_ms"] for run in triggers],
        "max": [run["lag_max_ms"] for run in triggers],
    }
    labels = [f"N={run['n']:,}, every {run['interval_s']:g} s" for run in triggers]
    return {
        "triggerer_cpu_per_poll.svg": bar_chart(
            "CPU per status poll (lower is better)", variants, cpu, "CPU ms per poll"
        ),
        "triggerer_loop_lag.svg": bar_chart(
            "Event-loop lag with N HeyGenVideoStatusTrigger", labels, lag, "lag (ms)", (100.0, "goal: p99 < 100 ms")
        ),
    }


def dag_parse_plot(figures: dict[str, Any]) -> dict[str, str]:
    rows = figures["targets"]
    names = [row["target"].replace("heygen_provider.", "").replace("example_dags/", "") for row in rows]
    series = {"added ms": [row["added_ms"] for row in rows]}
    return {
        "dag_parse.svg": bar_chart(
            "Import time on top of airflow.sdk (median)", names, series, "ms", (50.0, "goal: < 50 ms")
        )
    }


def download_plot(figures: dict[str, Any]) -> dict[str, str]:
    rows = figures["variants"]
    series = {"warm": [row["mib_per_s"] for row in rows], "cold": [row["cold_mib_per_s"] for row in rows]}
    return {
        "download.svg": bar_chart(
            f"Streaming a {figures['size']} video to a local folder", [row["variant"] for row in rows], series, "MiB/s"
        )
    }


def api_calls_plot(figures: dict[str, Any]) -> dict[str, str]:
    videos = figures["videos"]
    xs = [video["interval_s"] for video in videos]
    series = {
        "status GETs (measured)": [video["gets"] for video in videos],
        "expected (own GETs + render / interval)": [video["expected_gets"] for video in videos],
        "POSTs": [video["posts"] for video in videos],
    }
    title = f"API calls per video, {figures['render_seconds']:g} s render"
    return {"api_calls.svg": line_chart(title, xs, series, "poll interval (s)", "requests")}


PLOTS = {
    "triggerer": triggerer_plots,
    "dag_parse": dag_parse_plot,
    "download": download_plot,
    "api_calls": api_calls_plot,
}


def write_all(results: dict[str, Any], output_dir: Path = OUTPUT_DIR) -> list[Path]:
    """Write one or more SVG files per benchmark present in ``results``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PLOTS.items():
        benchmark = results["benchmarks"].get(name)
        if benchmark is None:
            continue
        for file_name, svg in make(benchmark["figures"]).items():
            path = output_dir / file_name
            path.write_text(svg)
            written.append(path)
    return written


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR / "latest.json"
    for path in write_all(json.loads(source.read_text())):
        print(path)


if __name__ == "__main__":
    main()
