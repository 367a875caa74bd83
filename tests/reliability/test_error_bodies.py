"""
A non-JSON error body (a proxy's page, a truncated answer, anything hostile) is described in time linear in
a capped prefix of it: the description runs inside the triggerer's event loop, shared by every trigger.

No wall-clock threshold: the time of a large hostile body is compared with that of a small one of the
same shape, so a machine's speed cancels out. Quadratic scanning makes 16 times the input cost about 256
times the time; linear scanning about 16 times.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from heygen_provider.exceptions import HeyGenAPIError, HeyGenServerError
from heygen_provider.hooks.answers import parse_response

KEY = "sk-BODYCHECK-5e1f0a9c"
SMALL = 2 * 1024
LARGE = 16 * SMALL

#: name -> body of about ``size`` bytes that made the regular expressions backtrack
HOSTILE: dict[str, Callable[[int], bytes]] = {
    "unclosed-angle-brackets": lambda size: b"<" * size,
    "unclosed-titles": lambda size: b"<title>" * (size // 7),
    "tags-without-ends": lambda size: b"<a " * (size // 3),
}


def describe(body: bytes) -> str:
    with pytest.raises(HeyGenAPIError) as raised:
        parse_response(502, body, secrets=[KEY])
    return raised.value.message


def fastest(body: bytes, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        describe(body)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_hostile_bodies_are_described_in_linear_time(shape: str) -> None:
    small, large = HOSTILE[shape](SMALL), HOSTILE[shape](LARGE)
    ratio = fastest(large, repeats=9) / fastest(small, repeats=25)
    # Linear: about 16. Quadratic: about 256. The margin absorbs a noisy, shared machine.
    assert ratio < 64, f"16x the input took {ratio:.0f}x the time"


def test_only_a_bounded_prefix_of_a_huge_body_is_read() -> None:
    # 10 MB: a title beyond the prefix is never looked for, so the description comes from the prefix.
    body = b"a " * 5_000_000 + b"<title>late title</title>"
    message = describe(body)
    assert "late title" not in message
    assert message.startswith("response body is not HeyGen's JSON: 'a a a")
    assert message.endswith("...'"), "cut at 200 characters"


def test_a_huge_hostile_body_is_described() -> None:
    message = describe(b"<" * 10_000_000)
    assert message.startswith("response body is not HeyGen's JSON: '<<<")


@pytest.mark.parametrize("offset", range(-len(KEY), 1))
def test_a_key_straddling_the_prefix_end_does_not_leak(offset: int) -> None:
    start = 64 * 1024 + offset  # the key starts this far into the body: around the end of the prefix
    message = describe(b"<b>" * (start // 3) + b"x" * (start % 3) + KEY.encode() + b"<b>" * 10)
    assert KEY[:4] not in message, message


def test_behaviour_is_kept() -> None:
    page = b"<html><head><TITLE lang='en'>  Service\n &amp; Unavailable  </TITLE></head></html>"
    assert describe(page) == "response body is not HeyGen's JSON: 'Service & Unavailable'"
    assert describe(b"<p>one</p><>two<br/>  three &lt;") == "response body is not HeyGen's JSON: 'one <>two three <'"
    assert describe(f"<h1>bad key {KEY}</h1>".encode()) == "response body is not HeyGen's JSON: 'bad key ***'"
    with pytest.raises(HeyGenServerError):
        parse_response(503, b"")
