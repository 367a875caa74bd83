"""
A budget before paying: estimate what a campaign's renders will cost, and refuse before any render
when that is more than ``max_cost`` or than the account has left.

The estimate, and its assumptions:

* **Spoken duration.** A script is spoken at :data:`WORDS_PER_MINUTE` (150, a common figure for a
  presenter's pace) times the voice's ``speed`` (0.5 to 1.5, default 1). A silence scene counts its
  ``duration``. An audio scene's length is not known before HeyGen reads the file: it is counted as
  :data:`AUDIO_SCENE_SECONDS` and the row says so (``assumed``). Pauses, SSML breaks and a voice's own
  pace make real videos differ; the summary shows the estimate beside the actual duration.
* **Price.** USD per second of output by engine, :data:`PRICE_PER_SECOND_USD`, from HeyGen's published
  figures at 720p/1080p: Avatar IV $0.0667 for a studio avatar or digital twin, $0.05 for a photo
  avatar; Avatar III $0.0167 to $0.0433 (the upper end is used, so the estimate does not fall short).
  HeyGen publishes no Avatar V figure: it is taken as Avatar IV's studio price. A template's engine is
  not in its answer: :data:`TEMPLATE_ENGINE` prices it as Avatar IV studio, the dearest figure. Pass
  ``prices`` to use your contract's figures (any engine left out keeps the default).
* **Credit.** ``GET /v3/users/me`` reports a wallet balance in USD, compared with the cost; or credits,
  compared with the duration at :data:`SECONDS_PER_CREDIT` (one credit per minute of video, HeyGen's
  API rate for standard avatars; pass ``seconds_per_credit`` for your plan's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from heygen_provider.connection_form import DEFAULT_CONN_ID
from heygen_provider.exceptions import HeyGenBudgetExceededError, HeyGenRequestValidationError

if TYPE_CHECKING:
    from heygen_provider.models import RemainingQuota, VideoGenerateRequest

#: A presenter's pace at voice speed 1.
WORDS_PER_MINUTE = 150.0
#: What an audio scene is counted as: its length is known only once HeyGen reads the file.
AUDIO_SCENE_SECONDS = 60.0
#: Seconds of video one credit buys (HeyGen's API rate for standard avatars).
SECONDS_PER_CREDIT = 60.0
#: The price-table key of a photo avatar rendered with Avatar IV.
PHOTO_AVATAR_IV = "avatar_iv_photo"
#: The price-table key of a template render (its engine is the template's, not in the answer).
TEMPLATE_ENGINE = "template"
#: USD per second of output at 720p/1080p (HeyGen's published figures; see the module's notes).
PRICE_PER_SECOND_USD: Mapping[str, float] = {
    "avatar_iv": 0.0667,
    PHOTO_AVATAR_IV: 0.05,
    "avatar_v": 0.0667,
    "avatar_iii": 0.0433,
    TEMPLATE_ENGINE: 0.0667,
}
DEFAULT_ENGINE = "avatar_iv"
_WORD = re.compile(r"\S+")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class RowEstimate:
    """
    One row's estimate.

    :param label: the row's name (its title).
    :param seconds: the estimated duration of the video.
    :param cost_usd: its estimated price.
    :param engine: the price-table key used.
    :param words: the words spoken.
    :param assumed: what the estimate had to assume (an audio file's length), or empty.
    :param problems: why the row is invalid (it will fail before it is paid for, so it costs nothing).
    """

    label: str
    seconds: float
    cost_usd: float
    engine: str
    words: int = 0
    assumed: str = ""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignEstimate:
    """
    The estimate of every row, and what the account has left.

    :param rows: one estimate per row, in row order.
    :param remaining: the account's remaining credit as ``(amount, unit)``, ``unit`` ``USD`` or
        ``credits``; ``None`` when not asked.
    :param seconds_per_credit: how credits are compared with the duration.
    """

    rows: tuple[RowEstimate, ...]
    remaining: tuple[float, str] | None = None
    seconds_per_credit: float = SECONDS_PER_CREDIT

    @property
    def total_seconds(self) -> float:
        return sum(row.seconds for row in self.rows if not row.problems)

    @property
    def total_cost_usd(self) -> float:
        return sum(row.cost_usd for row in self.rows if not row.problems)

    def describe(self) -> str:
        """The estimate as lines for a log or a terminal."""
        valid = [row for row in self.rows if not row.problems]
        lines = [
            f"Estimate: {len(valid)} video(s), about {self.total_seconds:.0f} s of video, "
            f"about ${self.total_cost_usd:.2f} (at {WORDS_PER_MINUTE:g} words a minute; see heygen_provider.budget)"
        ]
        for row in self.rows:
            if row.problems:
                lines.append(f"- {row.label}: invalid, not counted: {'; '.join(row.problems)}")
            else:
                assumed = f" ({row.assumed})" if row.assumed else ""
                lines.append(f"- {row.label}: {row.seconds:.0f} s, ${row.cost_usd:.2f}, {row.engine}{assumed}")
        if self.remaining is not None:
            amount, unit = self.remaining
            lines.append(f"Remaining credit: {_amount(amount, unit)}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """A JSON form for XCom: totals and one dict per row (``label``, ``seconds``, ``cost_usd``, ...)."""
        return {
            "total_seconds": round(self.total_seconds, 1),
            "total_cost_usd": round(self.total_cost_usd, 2),
            "remaining": list(self.remaining) if self.remaining else None,
            "rows": [{**asdict(row), "problems": list(row.problems)} for row in self.rows],
        }


def spoken_seconds(script: str, speed: float | None = None, *, words_per_minute: float = WORDS_PER_MINUTE) -> float:
    """
    How long ``script`` takes to say: its words at ``words_per_minute`` times ``speed``; at least 1 s.

    :param speed: the voice's speed, 0.5 to 1.5 (``None``: 1).
    """
    words = len(_WORD.findall(script))
    return max(1.0, words / (words_per_minute / 60.0) / (speed or 1.0))


def price_table(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """:data:`PRICE_PER_SECOND_USD` with ``overrides`` (USD per second, by engine key) applied.

    :raises ValueError: when an override is not a number of zero or more.
    """
    table = dict(PRICE_PER_SECOND_USD)
    for engine, price in (overrides or {}).items():
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0 or math.isnan(price):
            raise ValueError(f"prices[{engine!r}]: must be a number of USD per second, zero or more (got {price!r})")
        table[str(engine)] = float(price)
    return table


def estimate_request(
    label: str,
    request: VideoGenerateRequest,
    prices: Mapping[str, float],
    *,
    words_per_minute: float = WORDS_PER_MINUTE,
) -> RowEstimate:
    """The estimate of one validated video request (the generate operator's)."""
    seconds, words, audio_scenes, photo = 0.0, 0, 0, False
    for scene in request.video_inputs:
        voice = scene.voice
        if voice.type == "silence":
            seconds += float(voice.duration or 0)
        elif voice.type == "audio":
            audio_scenes += 1
            seconds += AUDIO_SCENE_SECONDS
        else:
            text = voice.input_text or ""
            words += len(_WORD.findall(text))
            seconds += spoken_seconds(text, voice.speed, words_per_minute=words_per_minute)
        photo = photo or scene.character.type in ("talking_photo", "image")
    engine = str(request.engine or DEFAULT_ENGINE)
    if engine == DEFAULT_ENGINE and photo:
        engine = PHOTO_AVATAR_IV
    assumed = f"{audio_scenes} audio scene(s) counted as {AUDIO_SCENE_SECONDS:g} s each" if audio_scenes else ""
    return _row(label, seconds, engine, prices, words=words, assumed=assumed)


def estimate_template(
    label: str,
    scripts: Sequence[str],
    variables: Mapping[str, Any],
    prices: Mapping[str, float],
    *,
    words_per_minute: float = WORDS_PER_MINUTE,
) -> RowEstimate:
    """
    The estimate of one template render: its scenes' scripts with the row's text variables in place.

    :param scripts: the template's scene scripts (:meth:`~heygen_provider.models.template.Template.scripts`).
    :param variables: the generate call's ``variables`` (HeyGen's shape).
    """
    texts = {
        name: str((value.get("properties") or {}).get("content", ""))
        for name, value in variables.items()
        if isinstance(value, Mapping) and value.get("type") == "text"
    }
    spoken = [_PLACEHOLDER.sub(lambda match: texts.get(match.group(1), ""), script) for script in scripts]
    seconds = sum(spoken_seconds(text, words_per_minute=words_per_minute) for text in spoken if text.strip())
    words = sum(len(_WORD.findall(text)) for text in spoken)
    return _row(label, seconds, TEMPLATE_ENGINE, prices, words=words, assumed="")


def invalid_row(label: str, problems: Sequence[str]) -> RowEstimate:
    """A row that will fail before it is paid for: it is listed with its problems and costs nothing."""
    return RowEstimate(label=label, seconds=0.0, cost_usd=0.0, engine="", problems=tuple(problems))


def remaining_credit(quota: RemainingQuota) -> tuple[float, str] | None:
    """
    What ``GET /v3/users/me`` (or the legacy quota call) says is left, as ``(amount, "USD" | "credits")``;
    ``None`` when nothing runs out (usage-based billing without a spending cap).
    """
    if math.isinf(quota.remaining_credits):
        # No limit to check against; an infinite amount would also reach XCom as non-standard JSON.
        return None
    if quota.unit.lower() == "usd":
        return quota.remaining_credits, "USD"
    return quota.remaining_credits, "credits"


def check_budget(estimate: CampaignEstimate, *, max_cost: float | None = None) -> None:
    """
    Refuse a campaign whose estimate is over ``max_cost`` (USD) or over the account's remaining credit.

    :raises HeyGenBudgetExceededError: saying the estimate, the limit it passes and how to proceed.
    """
    total = estimate.total_cost_usd
    reasons = []
    if max_cost is not None and total > max_cost:
        reasons.append(f"it is over max_cost ${max_cost:.2f}")
    if estimate.remaining is not None:
        amount, unit = estimate.remaining
        if unit == "USD" and total > amount:
            reasons.append(f"it is over the account's remaining balance of {_amount(amount, unit)}")
        needed = estimate.total_seconds / estimate.seconds_per_credit
        if unit == "credits" and needed > amount:
            reasons.append(f"it needs about {needed:.1f} credits and the account has {_amount(amount, unit)}")
    if reasons:
        raise HeyGenBudgetExceededError(
            f"Not rendering: the estimated cost of ${total:.2f} ({estimate.total_seconds:.0f} s of video) "
            f"{' and '.join(reasons)}. Nothing was submitted. Raise max_cost, add credit, or render fewer "
            f"rows.\n{estimate.describe()}"
        )


def preflight_campaign(
    rows: Sequence[Mapping[str, Any]],
    *,
    defaults: Mapping[str, Any] | None = None,
    max_cost: float | None = None,
    prices: Mapping[str, float] | None = None,
    words_per_minute: float = WORDS_PER_MINUTE,
    seconds_per_credit: float = SECONDS_PER_CREDIT,
    check_credit: bool = True,
    heygen_conn_id: str = DEFAULT_CONN_ID,
    log: Any = None,
) -> CampaignEstimate:
    """
    Before a mapped campaign submits anything: validate every row, estimate each video's duration and
    cost, ask the account what it has left, and refuse when the total is over budget. No paid call.

    A row that breaks a rule is listed with its problems and not counted: its own render task will fail
    before paying, and the other rows still render.

    :param rows: the generate operator's parameters per row (as mapped with ``expand_kwargs``); keys
        that are not request parameters (a file stem) are ignored.
    :param defaults: parameters every row shares (the operator's ``partial`` ones), e.g. ``dimension``.
    :param max_cost: refuse above this many USD; ``None``: no limit but the account's credit.
    :param prices: overrides of :data:`PRICE_PER_SECOND_USD` (USD per second, by engine key).
    :param words_per_minute: the speaking pace at voice speed 1.
    :param seconds_per_credit: seconds of video one credit buys, for accounts billed in credits.
    :param check_credit: ask ``GET /v3/users/me`` for the remaining credit and refuse above it.
    :param heygen_conn_id: the connection the renders will use.
    :param log: where to write the estimate (a logger); default this module's.
    :raises HeyGenBudgetExceededError: over ``max_cost`` or the remaining credit.
    """
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoGenerateRequest

    table = price_table(prices)
    hook = HeyGenHook(heygen_conn_id)
    fields = set(VideoGenerateRequest.model_fields) | {"extra_fields"}
    estimates = []
    for index, row in enumerate(rows):
        params = {**(defaults or {}), **{key: value for key, value in row.items() if key in fields}}
        label = str(params.get("title") or f"row {index + 1}")
        try:
            request = VideoGenerateRequest.from_params(params)
            hook.request_body(request)
        except HeyGenRequestValidationError as error:
            estimates.append(invalid_row(label, error.problems))
            continue
        estimates.append(estimate_request(label, request, table, words_per_minute=words_per_minute))
    return _judge(
        estimates,
        hook,
        max_cost=max_cost,
        seconds_per_credit=seconds_per_credit,
        check_credit=check_credit,
        log=log,
    )


def preflight_template_campaign(
    template_id: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    require_all_variables: bool = True,
    max_cost: float | None = None,
    prices: Mapping[str, float] | None = None,
    words_per_minute: float = WORDS_PER_MINUTE,
    seconds_per_credit: float = SECONDS_PER_CREDIT,
    check_credit: bool = True,
    heygen_conn_id: str = DEFAULT_CONN_ID,
    log: Any = None,
) -> CampaignEstimate:
    """
    :func:`preflight_campaign` for a template campaign: the template is read once (free), each row's
    variables are checked against it as :class:`~heygen_provider.operators.template.HeyGenTemplateVideoOperator`
    checks them, and each video is estimated from the template's scripts with the row's text in place.

    :param template_id: the template every row renders.
    :param rows: the operator's parameters per row: ``variables`` (and ``title``, ``dimension``,
        ``scene_ids``, ``extra_fields``), each checked as the operator checks it; other keys are ignored.
    :param require_all_variables: as the operator's parameter of that name.
    :raises HeyGenBudgetExceededError: over ``max_cost`` or the remaining credit.
    :raises HeyGenRequestValidationError: ``template_id`` is empty.

    The other parameters are :func:`preflight_campaign`'s.
    """
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models.template import check_template_row, parse_template_id

    table = price_table(prices)
    hook = HeyGenHook(heygen_conn_id)
    # Read and checked as the operator reads and checks them, by the same functions.
    template = hook.get_template(parse_template_id(template_id))
    estimates = []
    for index, row in enumerate(rows):
        label = str(row.get("title") or f"row {index + 1}")
        checked = check_template_row(
            template,
            variables=row.get("variables"),
            dimension=row.get("dimension"),
            scene_ids=row.get("scene_ids"),
            extra_fields=row.get("extra_fields"),
            require_all=require_all_variables,
        )
        if checked.all_problems:
            estimates.append(invalid_row(label, checked.all_problems))
            continue
        scripts = template.scripts(checked.scene_ids)
        estimates.append(estimate_template(label, scripts, checked.variables, table, words_per_minute=words_per_minute))
    return _judge(
        estimates,
        hook,
        max_cost=max_cost,
        seconds_per_credit=seconds_per_credit,
        check_credit=check_credit,
        log=log,
    )


def _judge(
    estimates: list[RowEstimate],
    hook: Any,
    *,
    max_cost: float | None,
    seconds_per_credit: float,
    check_credit: bool,
    log: Any,
) -> CampaignEstimate:
    """The campaign's estimate with the account's remaining credit, logged, and refused when over budget."""
    import logging

    remaining = remaining_credit(hook.get_remaining_quota()) if check_credit else None
    estimate = CampaignEstimate(rows=tuple(estimates), remaining=remaining, seconds_per_credit=seconds_per_credit)
    (log or logging.getLogger(__name__)).info("%s", estimate.describe())
    check_budget(estimate, max_cost=max_cost)
    return estimate


def _row(
    label: str, seconds: float, engine: str, prices: Mapping[str, float], *, words: int, assumed: str
) -> RowEstimate:
    price = prices.get(engine, prices.get(DEFAULT_ENGINE, PRICE_PER_SECOND_USD[DEFAULT_ENGINE]))
    return RowEstimate(
        label=label, seconds=seconds, cost_usd=seconds * price, engine=engine, words=words, assumed=assumed
    )


def _amount(amount: float, unit: str) -> str:
    return f"${amount:.2f}" if unit == "USD" else f"{amount:g} credits"
