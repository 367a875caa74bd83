"""
What one attempt of an API call ended in, for the sync and the async transport alike.

Each transport sends the request and hands what happened here: an HTTP answer becomes HeyGen's data or
one of :mod:`heygen_provider.exceptions` (through the one error parser), a failed exchange becomes a
:class:`~heygen_provider.exceptions.HeyGenTransportError`. The retry policy then judges the exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from heygen_provider.exceptions import HeyGenAPIError, HeyGenError, HeyGenTransportError, parse_response
from heygen_provider.retry import RetryState, TransportFailure, parse_retry_after


def read_answer(
    status_code: int, body: bytes, headers: Mapping[str, str], secrets: Iterable[str], *, envelope: bool = False
) -> Any:
    """
    HeyGen's data from an HTTP answer.

    :param envelope: return the whole answer object, not its ``data`` (see
        :func:`~heygen_provider.exceptions.parse_response`).

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
