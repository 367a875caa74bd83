"""
``.. flow-diagram::``: a swim-lane diagram drawn as SVG at build time from a few lines of text.

No Graphviz, no Mermaid, no network: the layout is a grid (one column per lane, one row per step), so
the description says where each box goes and the extension only measures text and draws. Example::

    .. flow-diagram:: generate-flow
       :alt: How a HeyGen video is made

       lane worker "Worker"
       lane api "HeyGen API"
       box submit worker 0 "Submit" "POST /v3/videos"
       box create api 0 "Create the render"
       arrow submit -> create "paid, sent once"

Statements, one per line (``#`` starts a comment):

``lane ID "Title"``
    a column, left to right in the order given.
``box ID LANE ROW "Title" ["line" ...]``
    a box in lane ``LANE`` at row ``ROW`` (0 at the top); the title is bold, further lines plain.
``note LANE ROW "line" ["line" ...]``
    an italic remark in a dashed box.
``arrow A -> B ["label"] [route=hv|vh]``
    an arrow between boxes (``<->`` for both ways). Same row: straight across; same lane: straight
    down; otherwise an elbow, horizontal then vertical (``hv``, the default) or vertical first (``vh``).

The SVG is written to ``_generated/diagrams/<name>.svg`` under the source folder and shown as a figure.
"""

from __future__ import annotations

import html
import itertools
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
FONT_SIZE = 13
LINE_HEIGHT = 17
LANE_WIDTH = 200
LANE_GAP = 14
MARGIN = 18
HEADER_HEIGHT = 40
BOX_PADDING_X = 10
BOX_PADDING_Y = 9
ROW_GAP = 30
PALETTE = [
    # (lane tint, box fill, border / accent)
    ("#eef2ff", "#ffffff", "#4f46e5"),
    ("#ecfdf5", "#ffffff", "#059669"),
    ("#fff7ed", "#ffffff", "#ea580c"),
    ("#f0f9ff", "#ffffff", "#0284c7"),
    ("#fdf2f8", "#ffffff", "#db2777"),
]
INK = "#1f2937"
MUTED = "#6b7280"
ARROW = "#374151"


class DiagramError(ValueError):
    """The diagram description is wrong; the message names the line."""


@dataclass
class Lane:
    key: str
    title: str
    index: int


@dataclass
class Box:
    key: str
    lane: str
    row: int
    lines: list[str]
    note: bool = False
    # Filled in by the layout.
    wrapped: list[tuple[str, bool]] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass
class Arrow:
    source: str
    target: str
    label: str | None
    both_ways: bool
    route: str


@dataclass
class Diagram:
    lanes: dict[str, Lane] = field(default_factory=dict)
    boxes: dict[str, Box] = field(default_factory=dict)
    arrows: list[Arrow] = field(default_factory=list)


def parse(text: str) -> Diagram:
    """Read the description; raise :class:`DiagramError` naming the first bad line."""
    diagram = Diagram()
    notes = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.strip().startswith("#") else ""
        if not line:
            continue
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise DiagramError(f"line {number}: {error}") from None
        kind, args = words[0], words[1:]
        try:
            if kind == "lane" and len(args) == 2:
                diagram.lanes[args[0]] = Lane(args[0], args[1], len(diagram.lanes))
            elif kind == "box" and len(args) >= 4:
                key, lane, row, *lines = args
                diagram.boxes[key] = Box(key, _lane(diagram, lane), int(row), lines)
            elif kind == "note" and len(args) >= 3:
                lane, row, *lines = args
                notes += 1
                diagram.boxes[f"_note{notes}"] = Box(f"_note{notes}", _lane(diagram, lane), int(row), lines, note=True)
            elif kind == "arrow" and len(args) >= 3 and args[1] in ("->", "<->"):
                options = [arg for arg in args[3:] if arg.startswith("route=")]
                labels = [arg for arg in args[3:] if not arg.startswith("route=")]
                route = options[0].removeprefix("route=") if options else "hv"
                if route not in ("hv", "vh") or len(labels) > 1:
                    raise ValueError
                for end in (args[0], args[2]):
                    if end not in diagram.boxes:
                        raise DiagramError(f"line {number}: unknown box {end!r} (declare boxes before arrows)")
                diagram.arrows.append(Arrow(args[0], args[2], labels[0] if labels else None, args[1] == "<->", route))
            else:
                raise ValueError
        except DiagramError:
            raise
        except (ValueError, KeyError):
            raise DiagramError(f"line {number}: cannot read {line!r}") from None
    if not diagram.lanes or not diagram.boxes:
        raise DiagramError("a diagram needs at least one lane and one box")
    return diagram


def _lane(diagram: Diagram, key: str) -> str:
    if key not in diagram.lanes:
        raise DiagramError(f"unknown lane {key!r} (declare lanes first)")
    return key


def text_width(text: str, *, bold: bool = False, size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width: no font metrics at build time, so per-character averages."""
    width = 0.0
    for char in text:
        if char in "il.,:;'|!·()[]{} ":
            width += 0.30
        elif char in "mwMW@":
            width += 0.86
        elif char.isupper() or char.isdigit() or char in "_/→":
            width += 0.64
        else:
            width += 0.54
    return width * size * (1.07 if bold else 1.0)


def wrap(text: str, limit: float, *, bold: bool) -> list[str]:
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, bold=bold) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def layout(diagram: Diagram) -> tuple[float, float]:
    """Place every box; return the picture's width and height."""
    inner = LANE_WIDTH - 2 * LANE_GAP
    for box in diagram.boxes.values():
        box.wrapped = []
        for index, line in enumerate(box.lines):
            bold = index == 0 and not box.note
            box.wrapped += [(part, bold) for part in wrap(line, inner - 2 * BOX_PADDING_X, bold=bold)]
        box.width = inner
        box.height = len(box.wrapped) * LINE_HEIGHT + 2 * BOX_PADDING_Y
    rows = max(box.row for box in diagram.boxes.values()) + 1
    heights = [0.0] * rows
    for box in diagram.boxes.values():
        heights[box.row] = max(heights[box.row], box.height)
    tops = []
    y = MARGIN + HEADER_HEIGHT + ROW_GAP / 2
    for height in heights:
        tops.append(y)
        y += (height or LINE_HEIGHT) + ROW_GAP
    for box in diagram.boxes.values():
        lane = diagram.lanes[box.lane]
        box.x = MARGIN + lane.index * LANE_WIDTH + LANE_GAP
        box.y = tops[box.row] + (heights[box.row] - box.height) / 2
    return MARGIN * 2 + len(diagram.lanes) * LANE_WIDTH, y - ROW_GAP / 2 + MARGIN


def _route(arrow: Arrow, source: Box, target: Box) -> list[tuple[float, float]]:
    if source.row == target.row:
        going_right = target.cx > source.cx
        start_x = source.x + source.width if going_right else source.x
        end_x = target.x if going_right else target.x + target.width
        return [(start_x, source.cy), (end_x, target.cy)]
    going_down = target.cy > source.cy
    if source.lane == target.lane:
        start_y = source.y + source.height if going_down else source.y
        end_y = target.y if going_down else target.y + target.height
        return [(source.cx, start_y), (target.cx, end_y)]
    going_right = target.cx > source.cx
    if arrow.route == "hv":
        start = (source.x + source.width if going_right else source.x, source.cy)
        corner = (target.cx, source.cy)
        end = (target.cx, target.y if going_down else target.y + target.height)
    else:
        start = (source.cx, source.y + source.height if going_down else source.y)
        corner = (source.cx, target.cy)
        end = (target.x if going_right else target.x + target.width, target.cy)
    return [start, corner, end]


def _label(points: list[tuple[float, float]], text: str) -> str:
    """The label beside the arrow's longest segment, on a white halo."""
    segments = list(itertools.pairwise(points))
    (x1, y1), (x2, y2) = max(segments, key=lambda seg: abs(seg[1][0] - seg[0][0]) + abs(seg[1][1] - seg[0][1]))
    size = FONT_SIZE - 1.5
    width = text_width(text, size=size)
    if y1 == y2:  # horizontal: above the line
        x, y, anchor = (x1 + x2) / 2, y1 - 7, "middle"
        left = x - width / 2
    else:  # vertical: right of the line
        x, y, anchor = x1 + 8, (y1 + y2) / 2 + size / 3, "start"
        left = x
    halo = (
        f'<rect x="{left - 3:.1f}" y="{y - size:.1f}" width="{width + 6:.1f}" height="{size + 5:.1f}" '
        'rx="3" fill="#ffffff" fill-opacity="0.92"/>'
    )
    return (
        f'{halo}<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-style="italic" fill="{MUTED}">{html.escape(text)}</text>'
    )


def render_svg(diagram: Diagram, *, title: str) -> str:
    """The diagram as a standalone SVG document."""
    width, height = layout(diagram)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{html.escape(title)}" '
        f'font-family="{html.escape(FONT)}" font-size="{FONT_SIZE}">',
        f"<title>{html.escape(title)}</title>",
        "<defs>"
        f'<marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{ARROW}"/></marker>'
        '<filter id="shadow" x="-5%" y="-5%" width="110%" height="120%">'
        '<feDropShadow dx="0" dy="1" stdDeviation="1.2" flood-opacity="0.18"/></filter>'
        "</defs>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" rx="12" fill="#ffffff"/>',
    ]
    for lane in diagram.lanes.values():
        tint, _, accent = PALETTE[lane.index % len(PALETTE)]
        x = MARGIN + lane.index * LANE_WIDTH
        out.append(
            f'<rect x="{x + 4}" y="{MARGIN}" width="{LANE_WIDTH - 8}" height="{height - 2 * MARGIN:.0f}" '
            f'rx="10" fill="{tint}"/>'
        )
        out.append(
            f'<text x="{x + LANE_WIDTH / 2:.1f}" y="{MARGIN + 26}" text-anchor="middle" font-weight="700" '
            f'font-size="{FONT_SIZE + 1}" fill="{accent}">{html.escape(lane.title)}</text>'
        )
    for arrow in diagram.arrows:
        source, target = diagram.boxes[arrow.source], diagram.boxes[arrow.target]
        points = _route(arrow, source, target)
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
        start = ' marker-start="url(#head)"' if arrow.both_ways else ""
        out.append(f'<path d="{path}" fill="none" stroke="{ARROW}" stroke-width="1.6"{start} marker-end="url(#head)"/>')
    for box in diagram.boxes.values():
        _, fill, accent = PALETTE[diagram.lanes[box.lane].index % len(PALETTE)]
        if box.note:
            out.append(
                f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="8" '
                f'fill="none" stroke="{MUTED}" stroke-dasharray="4 3"/>'
            )
        else:
            out.append(
                f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="8" '
                f'fill="{fill}" stroke="{accent}" stroke-width="1.5" filter="url(#shadow)"/>'
            )
        for index, (line, bold) in enumerate(box.wrapped):
            y = box.y + BOX_PADDING_Y + (index + 1) * LINE_HEIGHT - 4.5
            style = ' font-weight="700"' if bold else (' font-style="italic"' if box.note else "")
            colour = MUTED if box.note else INK
            out.append(
                f'<text x="{box.cx:.1f}" y="{y:.1f}" text-anchor="middle" fill="{colour}"{style}>'
                f"{html.escape(line)}</text>"
            )
    for arrow in diagram.arrows:
        if arrow.label:
            points = _route(arrow, diagram.boxes[arrow.source], diagram.boxes[arrow.target])
            out.append(_label(points, arrow.label))
    out.append("</svg>")
    return "\n".join(out) + "\n"


class FlowDiagram(SphinxDirective):
    """Draw the diagram described in the directive's content and show it as a figure."""

    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"alt": directives.unchanged, "caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        alt = self.options.get("alt", name)
        try:
            svg = render_svg(parse("\n".join(self.content)), title=alt)
        except DiagramError as error:
            raise self.error(f"flow-diagram {name}: {error}") from None
        target = Path(self.env.srcdir) / "_generated" / "diagrams" / f"{name}.svg"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != svg:
            target.write_text(svg, encoding="utf-8")
        lines = [
            f".. figure:: /_generated/diagrams/{name}.svg",
            f"   :alt: {alt}",
            "   :class: flow-diagram",
            "   :figclass: flow-diagram",
            "",
        ]
        if "caption" in self.options:
            lines.append(f"   {self.options['caption']}")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("flow-diagram", FlowDiagram)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
