"""
What one attempt of an API call ended in, for the sync and the async transport alike.

Each transport sends the request and hands what happened here: an HTTP answer becomes HeyGen's data or
one of :mod:`heygen_provider.exceptions` (through the one answer parser,
:mod:`heygen_provider.hooks.answers`), a failed exchange becomes a
:class:`~heygen_provider.exceptions.HeyGenTransportError`. The retry policy then judges the exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from heygen_provider.exceptions import (
    HeyGenAnswerTooLargeError,
    HeyGenAPIError,
    HeyGenError,
    HeyGenTransportError,
)
from heygen_provider.hooks.answers import parse_response
from heygen_provider.retry import RetryState, TransportFailure, parse_retry_after

#: Bytes of one answer the triggerer reads at most. Its answers are status answers: a bulk one for 100
#: videos is about 10 KB, one video's a few KB with its signed URLs, so 1 MiB holds the largest many times
#: over and stays quick to parse on the event loop, which a larger answer would stall for every trigger on
#: it (``docs/benchmarks.rst``, answer caps).
MAX_TRIGGERER_ANSWER_BYTES = 1024 * 1024
#: Bytes of one answer a worker reads at most. The largest legitimate answers are listings (the legacy API
#: lists every avatar or voice in one unpaged answer, v3 pages of 50 looks or 100 voices), far below 16 MiB;
#: a broken server or proxy that streams without end is cut there and cannot exhaust the worker's memory.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: Bytes read in one step: what the event loop handles between two other tasks' turns.
ANSWER_CHUNK_BYTES = 64 * 1024


class CappedBody:
    """
    The body of one answer, read chunk by chunk up to a cap, for the sync and the async transport alike.

    A transport reads while :attr:`wanted` and hands each chunk to :meth:`add`, then takes :meth:`content`.
    An error answer (3xx and up) over the cap is kept cut at the cap: only its start is described. A
    2xx answer over the cap is an error, :class:`~heygen_provider.exceptions.HeyGenAnswerTooLargeError`;
    one that declares a ``Content-Length`` over the cap is refused before any byte is read.

    :param status_code: the answer's HTTP status.
    :param headers: the answer's headers.
    :param cap: bytes read at most.
    :param request: the request in a few words (``GET /v3/videos/statuses``), for the error.
    """

    def __init__(self, status_code: int, headers: Mapping[str, str], cap: int, request: str) -> None:
        self.status_code = status_code
        self.cap = cap
        # Cut: a status path holds the video id, which may be long.
        self.request = request if len(request) <= 100 else request[:97] + "..."
        self.size = 0
        self._chunks: list[bytes] = []
        #: Bytes were left unread: the transport must not reuse the connection.
        self.cut = status_code < 300 and _declared_length(headers) > cap
        #: The transport reads on; false once the cap is passed, or when the declared length is over it.
        self.wanted = not self.cut

    def add(self, chunk: bytes) -> None:
        """Keep ``chunk``, up to the cap; reading stops (:attr:`wanted` false) once the cap is passed."""
        room = self.cap - self.size
        self.size += len(chunk)
        if self.size > self.cap:
            self.cut = True
            self.wanted = False
            chunk = chunk[:room] if self.status_code >= 300 else b""
        self._chunks.append(chunk)

    def content(self) -> bytes:
        """
        The body read.

        :raises HeyGenAnswerTooLargeError: when a 2xx answer was longer than the cap.
        """
        if self.cut and self.status_code < 300:
            self._chunks.clear()
            raise HeyGenAnswerTooLargeError(
                f"HeyGen's answer to {self.request} is longer than {self.cap:,} bytes, the most this provider "
                "reads of one answer, so it was not read further. No HeyGen answer comes near that: check the "
                "connection's host, or a proxy in front of HeyGen.",
                status_code=self.status_code,
            )
        return b"".join(self._chunks)


def _declared_length(headers: Mapping[str, str]) -> int:
    """The ``Content-Length`` an answer declares, or 0 (none, or not a number: the read finds out)."""
    declared = headers.get("Content-Length") or ""
    return int(declared) if declared.isdigit() else 0


def read_answer(
    status_code: int, body: bytes, headers: Mapping[str, str], secrets: Iterable[str], *, envelope: bool = False
) -> Any:
    """
    HeyGen's data from an HTTP answer.

    :param envelope: return the whole answer object, not its ``data`` (see
        :func:`~heygen_provider.hooks.answers.parse_response`).

    :raises HeyGenAPIError: of the class the answer calls for, with ``Retry-After`` kept on it.
    """
    if 300 <= status_code < 400:
        target = urlsplit(headers.get("Location") or "").netloc or "another location"
        raise HeyGenAPIError(
            f"HeyGen answered a redirect to {target}; redirects are not followed, so the API key goes to no "
            "other host. Check the connection's host.",
            status_code=status_code,
        )
    retry_after = parse_retry_after(headers.get("Retry-After"))
    return parse_response(status_code, body, secrets=secrets, retry_after=retry_after, envelope=envelope)


def describe_failure(failure: BaseException) -> str:
    """A failed exchange in a few words: the exception's class and text."""
    return f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__


def transport_error(method: str, failure: TransportFailure, description: str) -> HeyGenTransportError:
    """The exception of a request that got no HTTP answer."""
    return HeyGenTransportError(
        f"{method} request to HeyGen failed: {description}",
        request_may_have_reached_server=failure is TransportFailure.NO_RESPONSE,
    )


def final_error(error: HeyGenError, retry: RetryState) -> HeyGenError:
    """The exception to raise once the policy gives up; a transport error says why it stopped."""
    if not isinstance(error, HeyGenTransportError):
        return error
    if retry.may_resend(error):
        suffix = f" after {retry.attempt} attempt(s)"
    else:
        suffix = (
            "; not retried, because the request may have reached HeyGen and a second create would be paid for twice"
        )
    return HeyGenTransportError(
        f"{error}{suffix}", request_may_have_reached_server=error.request_may_have_reached_server
    )
