"""Start-up settings of the HeyGen emulator and the plan limits it enforces."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: The API key every emulator accepts unless told otherwise. It is public on purpose: it only
#: ever opens a local emulator.
DEFAULT_API_KEY = "heygen-emulator-key"

SECONDS_PER_DAY = 24 * 3600
#: The ``Retry-After`` of v3's refusal of a create beyond the plan's concurrent jobs. HeyGen does not
#: document its value; a realistic render takes 5 to 15 minutes, so with 10 jobs running one ends about
#: every 30 to 90 seconds, and 30 seconds asks the client to look again about when a slot may be free.
DEFAULT_SLOT_RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class PlanLimits:
    """What a HeyGen plan allows.

    :param concurrent_renders: video jobs that run at once, each from its create until it ends. v3
        refuses a create beyond them (429 ``rate_limit_exceeded`` with ``Retry-After``); the legacy API
        queues it.
    :param max_short_side: largest short side of the output (720 for 720p, 1080, 2160 for 4K).
    :param max_video_seconds: longest video; longer ones fail at poll time with code 40119.
    """

    concurrent_renders: int
    max_short_side: int
    max_video_seconds: float


#: HeyGen's usage-limits page gives pay-as-you-go API accounts 10 concurrent video jobs; the legacy plans
#: (free, pro, scale) are those of its older pricing page; enterprise limits are custom (6 by default).
PLANS: dict[str, PlanLimits] = {
    "pay_as_you_go": PlanLimits(concurrent_renders=10, max_short_side=2160, max_video_seconds=3600.0),
    "free": PlanLimits(concurrent_renders=1, max_short_side=720, max_video_seconds=180.0),
    "pro": PlanLimits(concurrent_renders=3, max_short_side=1080, max_video_seconds=1800.0),
    "scale": PlanLimits(concurrent_renders=6, max_short_side=2160, max_video_seconds=3600.0),
    "enterprise": PlanLimits(concurrent_renders=6, max_short_side=2160, max_video_seconds=3600.0),
}


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class EmulatorSettings:
    """Behaviour of one emulator. Every field can also be changed while it runs (admin API).

    :param api_keys: values accepted in the ``X-Api-Key`` header.
    :param bearer_tokens: OAuth access tokens accepted as ``Authorization: Bearer <token>``. API keys
        sent as Bearer tokens are refused, as HeyGen does.
    :param plan: ``pay_as_you_go``, ``free``, ``pro``, ``scale`` or ``enterprise``: concurrency,
        resolution and length limits.
    :param concurrent_renders: when set, the number of concurrent video jobs instead of the plan's.
    :param slot_retry_after_seconds: the ``Retry-After`` (whole seconds) of the 429 with which a v3
        create is refused when every render slot is taken.
    :param pending_seconds: how long a new job reads ``pending`` before it asks for a render slot.
    :param render_seconds: how long a render reads ``processing``. 0 completes it on the first poll.
    :param url_lifetime_seconds: lifetime of the signed media URLs (HeyGen: 7 days).
    :param video_size_bytes: when set, every video's MP4 is padded to this size (download benchmarks).
    :param strict_catalogue: refuse avatar, talking photo and voice ids not in the emulator's catalogue.
    :param remaining_quota: API quota in seconds of video; renders longer than what is left fail at
        poll time with ``MOVIO_PAYMENT_INSUFFICIENT_CREDIT``, as on HeyGen.
    :param request_log_limit: newest requests kept in the request log.
    :param legacy_retired: answer every legacy path (``/v1/...``, ``/v2/...``) as a retired API would:
        HTTP 404 with an HTML "Not Found" page, not a HeyGen body. The v3 paths keep working.
    :param create_delay_seconds: how long each creation request takes to answer (HeyGen's p50 is about
        4 s, its p99 about 30 s); the video exists from the start, so a client that gives up sooner
        has created a video it never heard of, and an ``Idempotency-Key`` repeat meanwhile gets 409.
    """

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    bearer_tokens: tuple[str, ...] = ()
    plan: str = "pay_as_you_go"
    concurrent_renders: int | None = None
    slot_retry_after_seconds: int = DEFAULT_SLOT_RETRY_AFTER_SECONDS
    pending_seconds: float = 0.0
    render_seconds: float = 0.0
    url_lifetime_seconds: float = 7 * SECONDS_PER_DAY
    video_size_bytes: int | None = None
    strict_catalogue: bool = False
    remaining_quota: float = 1_000_000.0
    request_log_limit: int = 50_000
    legacy_retired: bool = False
    create_delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.api_keys = tuple(self.api_keys)
        self.bearer_tokens = tuple(self.bearer_tokens)
        if self.plan not in PLANS:
            raise ValueError(f"unknown plan {self.plan!r}; choose one of {', '.join(PLANS)}")
        if self.pending_seconds < 0 or self.render_seconds < 0 or self.url_lifetime_seconds <= 0:
            raise ValueError("pending_seconds and render_seconds must be >= 0, url_lifetime_seconds > 0")
        if self.video_size_bytes is not None and self.video_size_bytes <= 0:
            raise ValueError("video_size_bytes must be positive")
        if self.create_delay_seconds < 0:
            raise ValueError("create_delay_seconds must be >= 0")
        if self.concurrent_renders is not None and (not _whole(self.concurrent_renders) or self.concurrent_renders < 1):
            raise ValueError(f"concurrent_renders must be a whole number >= 1; got {self.concurrent_renders!r}")
        if not _whole(self.slot_retry_after_seconds) or self.slot_retry_after_seconds < 0:
            raise ValueError(
                f"slot_retry_after_seconds must be a whole number >= 0; got {self.slot_retry_after_seconds!r}"
            )

    @classmethod
    def realistic(cls, **overrides: Any) -> EmulatorSettings:
        """Settings that take as long as HeyGen usually does (renders of 5 to 15 minutes).

        :param overrides: fields to set on top of the realistic timings.
        """
        values: dict[str, Any] = {"pending_seconds": 20.0, "render_seconds": 420.0}
        values.update(overrides)
        return cls(**values)

    @property
    def limits(self) -> PlanLimits:
        """The limits of the configured plan, with ``concurrent_renders`` when it is set."""
        limits = PLANS[self.plan]
        if self.concurrent_renders is None:
            return limits
        return dataclasses.replace(limits, concurrent_renders=self.concurrent_renders)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, read back by :meth:`from_dict` (used to start an emulator in a subprocess)."""
        values = dataclasses.asdict(self)
        values["api_keys"] = list(self.api_keys)
        values["bearer_tokens"] = list(self.bearer_tokens)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EmulatorSettings:
        """Build settings from :meth:`to_dict` output; unknown names are an error.

        :param values: field names and values.
        """
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown emulator settings: {', '.join(sorted(unknown))}")
        converted = dict(values)
        for name in ("api_keys", "bearer_tokens"):
            if name in converted:
                converted[name] = tuple(converted[name])
        return cls(**converted)

    def updated(self, changes: dict[str, Any]) -> EmulatorSettings:
        """A copy with some fields changed and validated again.

        :param changes: field names and new values.
        """
        merged = self.to_dict()
        merged.update(changes)
        return EmulatorSettings.from_dict(merged)
