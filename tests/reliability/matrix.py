"""
The fault matrix: which faults are injected, what each layer must do about them, and the table.

Rows are faults, columns the layers that meet them. The expectations follow HeyGen's retry rules
(``/work/shared/reference/heygen-api.md``, ``docs/reliability.rst``): a 429 is always retried; 5xx,
resets, read timeouts and unreadable answers are retried for status GETs only, because the create POST
has no idempotency key; 401, 403 and 404 fail at once; a failed render fails with HeyGen's code; a
``completed`` status with an error object is a success; an unknown status keeps waiting until the
deadline and never counts as success.

The tests record one line of observed behaviour per cell in :data:`RESULTS`; the session prints them and
``test_fault_matrix.py`` checks the committed RST table against them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
MATRIX_FILE = REPOSITORY / "docs" / "_generated" / "fault_matrix.rst"
UPDATE_ENV = "HEYGEN_UPDATE_FAULT_MATRIX"

CREATE_PATH = "/v2/video/generate"
STATUS_PATH = "/v1/video_status.get"
#: The connection's ``request_timeout`` in the suite (its minimum), and a ``slow`` answer beyond it.
REQUEST_TIMEOUT = 1
SLOW_SECONDS = 1.6

# Column kinds.
SURVIVED = "survived"
NOT_RESENT = "not re-sent"  # a create that may have reached HeyGen: one POST, no retry
FAILED_FAST = "failed fast"  # one attempt, HeyGen's code and message
RENDER = "render outcome"  # the status says how the render ended


@dataclass(frozen=True)
class Fault:
    """
    One row of the matrix.

    :param key: the row id used in test ids.
    :param label: the row heading in the table.
    :param emulator_fault: the emulator fault name, or ``None`` for render outcomes.
    :param magic: the title marker of a render outcome.
    :param kind: :data:`SURVIVED` when status GETs survive it and the create POST is retried (429),
        :data:`NOT_RESENT` when status GETs survive it but a create POST must not be re-sent,
        :data:`FAILED_FAST` when every call fails at once, :data:`RENDER` for render outcomes.
    :param http_status: the HTTP status HeyGen (or the proxy) answers, for errors.
    :param code: HeyGen's error code in that answer (or in the failed status).
    :param message: HeyGen's message in that answer (or in the failed status).
    :param error: the hook's exception class name when the call fails.
    """

    key: str
    label: str
    emulator_fault: str | None = None
    magic: str | None = None
    kind: str = NOT_RESENT
    http_status: int | None = None
    code: str | int | None = None
    message: str | None = None
    error: str | None = None

    @property
    def create_processed(self) -> bool:
        """Whether the emulator does the work before answering a faulted create: a video exists."""
        return self.kind == NOT_RESENT

    @property
    def repeats(self) -> int:
        """How many consecutive requests get the fault where it is survivable (one for slow answers)."""
        return 1 if self.emulator_fault == "slow" else 2


FAULTS: tuple[Fault, ...] = (
    Fault("429-seconds", "429, ``Retry-After`` in seconds", "rate_limited", kind=SURVIVED),
    Fault("429-http-date", "429, ``Retry-After`` as an HTTP date", "rate_limited_http_date", kind=SURVIVED),
    Fault("500", "500", "server_error", http_status=500, code="internal_error", message="Internal server error"),
    Fault("502", "502", "bad_gateway", http_status=502, message="Bad Gateway"),
    Fault(
        "503",
        "503 (with ``Retry-After``)",
        "service_unavailable",
        http_status=503,
        code="service_unavailable",
        message="Service temporarily unavailable",
    ),
    Fault("504", "504", "gateway_timeout", http_status=504, message="Gateway Timeout"),
    Fault("reset", "connection reset", "reset", error="HeyGenTransportError"),
    Fault("slow", f"answer slower than the {REQUEST_TIMEOUT} s request timeout", "slow", error="HeyGenTransportError"),
    Fault(
        "truncated",
        "truncated JSON body (HTTP 200)",
        "truncated_json",
        http_status=200,
        message="response body is not HeyGen's JSON",
        error="HeyGenMalformedResponseError",
    ),
    Fault(
        "html",
        "non-JSON body (a proxy's HTML 502 page)",
        "html_error_page",
        http_status=502,
        message="response body is not HeyGen's JSON: '502 Bad Gateway'",
    ),
    Fault(
        "401",
        "401",
        "unauthorized",
        kind=FAILED_FAST,
        http_status=401,
        code=400112,
        message="Unauthorized",
        error="HeyGenAuthenticationError",
    ),
    Fault(
        "403",
        "403",
        "forbidden",
        kind=FAILED_FAST,
        http_status=403,
        code="permission_denied",
        message="You do not have permission to access this resource",
        error="HeyGenAuthenticationError",
    ),
    Fault(
        "404",
        "404",
        "not_found",
        kind=FAILED_FAST,
        http_status=404,
        code=404,
        message="Resource not found",
        error="HeyGenNotFoundError",
    ),
    Fault(
        "failed-render",
        "failed render (too long for the plan)",
        magic="emulator:fail",
        kind=RENDER,
        code=40119,
        message="Video is too long (> 180.0s). Please upgrade your plan to generate longer videos",
    ),
    Fault(
        "completed-with-error",
        "``completed`` with an error object",
        magic="emulator:completed-with-error",
        kind=RENDER,
        code="MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
        message="Insufficient credit.",
    ),
    Fault("unknown-status", "unknown status value (``under_review``)", magic="emulator:unknown-status", kind=RENDER),
)
FAULTS_BY_KEY = {fault.key: fault for fault in FAULTS}


@dataclass(frozen=True)
class Column:
    key: str
    heading: str


COLUMNS: tuple[Column, ...] = (
    Column("hook-create", "Hook: ``create_video`` (POST)"),
    Column("hook-status", "Hook: ``get_video_status`` (GET)"),
    Column("trigger", "Trigger: ``run()`` polling"),
    Column("dag-create", "DAG run: fault on the create"),
    Column("dag-wait", "DAG run: fault while deferred"),
)
NOT_APPLICABLE = "n/a: render outcomes arrive in the status, not in the create answer"

#: (fault key, column key) -> the observed behaviour, filled in by the tests of this session.
RESULTS: dict[tuple[str, str], str] = {}


def record(fault: Fault, column: str, text: str) -> None:
    RESULTS[(fault.key, column)] = text


def complete() -> bool:
    """Whether every cell of the matrix was observed in this session."""
    return all((fault.key, column.key) in RESULTS for fault in FAULTS for column in COLUMNS)


def _rst_text(text: str) -> str:
    # Cells hold HeyGen's messages verbatim; keep RST from reading markup into them.
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")


def render_rst() -> str:
    """The matrix as an RST ``list-table``, for ``docs/_generated/fault_matrix.rst``."""
    lines = [
        ".. This file is written by tests/reliability (test_fault_matrix.py); do not edit it by hand.",
        f".. Regenerate: {UPDATE_ENV}=1 .venv/bin/python -m pytest tests/reliability -p no:cacheprovider",
        "",
        ".. list-table:: Fault matrix: each fault injected through the emulator, and what each layer did",
        "   :header-rows: 1",
        "   :widths: 16 17 17 17 17 16",
        "",
        "   * - Fault",
    ]
    lines.extend(f"     - {column.heading}" for column in COLUMNS)
    for fault in FAULTS:
        lines.append(f"   * - {fault.label}")
        lines.extend(f"     - {_rst_text(RESULTS.get((fault.key, column.key), '(not run)'))}" for column in COLUMNS)
    lines += [
        "",
        "POST and GET counts come from the emulator's request log. *Survived* means the call or the task",
        "succeeded with exactly one create that HeyGen accepted; *not re-sent* means the create may have",
        "reached HeyGen, so it was sent once and never again; *failed fast* means one attempt, and the",
        "error carries HeyGen's HTTP status, code and message.",
        "",
    ]
    return "\n".join(lines)


def render_text() -> str:
    """The matrix for the terminal: one block per fault."""
    width = max(len(column.heading) for column in COLUMNS)
    blocks = []
    for fault in FAULTS:
        cells = [
            f"    {column.heading.replace('``', ''):<{width}}  {RESULTS[(fault.key, column.key)]}"
            for column in COLUMNS
            if (fault.key, column.key) in RESULTS
        ]
        if cells:
            blocks.append("\n".join([fault.label.replace("``", ""), *cells]))
    return "\n".join(blocks)


def update_requested() -> bool:
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")
