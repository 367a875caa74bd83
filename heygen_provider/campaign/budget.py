"""
A budget before paying: estimate what a campaign's renders will cost, and refuse before any render
when that is more than ``max_cost`` or than the account has left.

The estimate, and its assumptions:

* **Spoken duration.** A script is spoken at :data:`WORDS_PER_MINUTE` (150, a common figure for a
  presenter's pace) times the voice's ``speed`` (0.5 to 1.5, default 1). Scripts that do not separate
  words with spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) are counted by character
  instead, at :data:`CHARACTERS_PER_MINUTE` (300); a text that mixes both counts each part its own way.
  A silence scene counts its ``duration``. Pauses, SSML breaks and a voice's own pace make real videos
  differ; the summary shows the estimate beside the actual duration.
* **What cannot be estimated is refused.** An audio scene's length, and a template scene's without a
  script, is known only once HeyGen reads the file: the preflight refuses the campaign
  (:class:`~heygen_provider.exceptions.HeyGenBudgetInputError`) unless ``unscripted_scene_seconds``
  says how long each such scene may be; the row then says so (``assumed``). So does a template without
  scenes, and a parameter that breaks its rule (``max_cost`` text or NaN, a pace of zero, ...).
* **Price.** USD per second of output by engine, :data:`PRICE_PER_SECOND_USD`, from HeyGen's published
  figures at 720p/1080p: Avatar IV $0.0667 for a studio avatar or digital twin, $0.05 for a photo
  avatar; Avatar III $0.0167 to $0.0433 (the upper end is used, so the estimate does not fall short).
  HeyGen publishes no Avatar V figure: it is taken as Avatar IV's studio price. A template's engine is
  not in its answer: :data:`TEMPLATE_ENGINE` prices it as Avatar IV studio, the dearest figure. Pass
  ``prices`` to use your contract's figures (any engine left out keeps the default).
* **Credit.** ``GET /v3/users/me`` reports a wallet balance in USD, compared with the cost; or credits,
  compared with the duration at :data:`SECONDS_PER_CREDIT` (one credit per minute of video, HeyGen's
  API rate for standard avatars; pass ``seconds_per_credit`` for your plan's).

This module is imported when DAG files are parsed (through :mod:`heygen_provider.campaign.tasks`), so
the hook and the models load only when a preflight runs.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from heygen_provider.campaign.summary import one_line
from heygen_provider.exceptions import (
    HeyGenBudgetExceededError,
    HeyGenBudgetInputError,
    HeyGenMalformedResponseError,
    HeyGenRequestValidationError,
)
from heygen_provider.vocabulary import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from heygen_provider.models import RemainingQuota, VideoGenerateRequest

#: A presenter's pace at voice speed 1.
WORDS_PER_MINUTE = 150.0
#: A presenter's pace at voice speed 1 in scripts that do not separate words with spaces: about 300
#: characters a minute, the pace NHK's announcers read the news at (NHK Broadcasting Culture Research
#: Institute), and Mandarin's measured 5.18 syllables a second, one character each (Pellegrino, Coupé and
#: Marsico, "A cross-language perspective on speech information rate", Language 87(3), 2011). Thai, Lao,
#: Khmer, Myanmar and Tibetan spell a syllable with two to four characters (combining marks are not
#: counted), so their scripts are estimated long: the budget errs towards refusing, never towards paying.
CHARACTERS_PER_MINUTE = 300.0
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
#: Characters of scripts that do not put spaces between words: CJK radicals and ideographs (and the
#: iteration mark 々), hiragana, katakana (full and half width), Thai, Lao, Tibetan, Myanmar, Khmer.
_UNSPACED = re.compile(
    "[\u2e80-\u2fdf\u3005\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]"
)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class RowEstimate:
    """
    One row's estimate.

    :param label: the row's name (its title).
    :param seconds: the estimated duration of the video.
    :param cost_usd: its estimated price.
    :param engine: the price-table key used.
    :param words: the words spoken (in scripts that separate words with spaces).
    :param assumed: what the estimate had to assume (an audio file's length), or empty.
    :param problems: why the row is invalid (it will fail before it is paid for, so it costs nothing).
    :param characters: the characters spoken in scripts that do not separate words (Chinese, Japanese, ...).
    """

    label: str
    seconds: float
    cost_usd: float
    engine: str
    words: int = 0
    assumed: str = ""
    problems: tuple[str, ...] = ()
    characters: int = 0


@dataclass(frozen=True)
class CampaignEstimate:
    """
    The estimate of every row, and what the account has left.

    :param rows: one estimate per row, in row order.
    :param remaining: the account's remaining credit as ``(amount, unit)``, ``unit`` ``USD`` or
        ``credits``; ``None`` when not asked.
    :param seconds_per_credit: how credits are compared with the duration.
    :param words_per_minute: the pace the durations were estimated at.
    :param characters_per_minute: the pace of scripts without spaces between words.
    """

    rows: tuple[RowEstimate, ...]
    remaining: tuple[float, str] | None = None
    seconds_per_credit: float = SECONDS_PER_CREDIT
    words_per_minute: float = WORDS_PER_MINUTE
    characters_per_minute: float = CHARACTERS_PER_MINUTE

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
            f"Estimate: {len(valid)} video{'' if len(valid) == 1 else 's'}, about {self.total_seconds:.0f} s of video, "
            f"about ${self.total_cost_usd:.2f} (at {self.words_per_minute:g} words or "
            f"{self.characters_per_minute:g} characters a minute; see heygen_provider.campaign.budget)"
        ]
        # One line per row, whatever a title (row data) contains.
        for row in self.rows:
            if row.problems:
                lines.append(one_line(f"- {row.label}: invalid, not counted: {'; '.join(row.problems)}"))
            else:
                assumed = f" ({row.assumed})" if row.assumed else ""
                lines.append(
                    one_line(f"- {row.label}: {row.seconds:.0f} s, ${row.cost_usd:.2f}, {row.engine}{assumed}")
                )
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


def spoken_units(script: str) -> tuple[int, int]:
    """
    What ``script`` says, as ``(words, characters)``: the characters of scripts that do not separate words
    (Chinese, Japanese, Thai, ...; combining marks not counted), and the words of the rest (runs between
    spaces that hold a letter or a digit: punctuation alone is not said).
    """
    characters = sum(
        1 for character in _UNSPACED.findall(script) if not unicodedata.category(character).startswith("M")
    )
    rest = _UNSPACED.sub(" ", script)
    words = sum(1 for word in _WORD.findall(rest) if any(character.isalnum() for character in word))
    return words, characters


def spoken_seconds(
    script: str,
    speed: float | None = None,
    *,
    words_per_minute: float = WORDS_PER_MINUTE,
    characters_per_minute: float = CHARACTERS_PER_MINUTE,
) -> float:
    """
    How long ``script`` takes to say at ``speed``: its words at ``words_per_minute``, its characters of
    scripts without spaces between words at ``characters_per_minute`` (:func:`spoken_units`); at least 1 s.

    :param speed: the voice's speed, 0.5 to 1.5 (``None``: 1).
    :raises HeyGenBudgetInputError: when a pace or ``speed`` is not a finite number above 0.
    """
    _check_paces(words_per_minute=words_per_minute, characters_per_minute=characters_per_minute)
    pace = 1.0 if speed is None else _positive("speed", speed)
    words, characters = spoken_units(script)
    return max(1.0, (words / words_per_minute + characters / characters_per_minute) * 60.0 / pace)


def price_table(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """:data:`PRICE_PER_SECOND_USD` with ``overrides`` (USD per second, by engine key) applied.

    :raises HeyGenBudgetInputError: (a ``ValueError``) when an override is not a finite number of zero or
        more, or ``overrides`` is not a mapping.
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise HeyGenBudgetInputError([f"prices: must be a mapping of engine to USD per second (got {overrides!r})"])
    table = dict(PRICE_PER_SECOND_USD)
    for engine, price in (overrides or {}).items():
        table[str(engine)] = _finite(f"prices[{engine!r}]", price, "a finite number of USD per second, zero or more")
    return table


def estimate_request(
    label: str,
    request: VideoGenerateRequest,
    prices: Mapping[str, float],
    *,
    words_per_minute: float = WORDS_PER_MINUTE,
    characters_per_minute: float = CHARACTERS_PER_MINUTE,
    unscripted_scene_seconds: float | None = None,
) -> RowEstimate:
    """
    The estimate of one validated video request (the generate operator's).

    :param unscripted_scene_seconds: what each audio scene is counted as; ``None``: an audio scene
        cannot be estimated, and is refused.
    :raises HeyGenBudgetInputError: naming each audio scene when ``unscripted_scene_seconds`` is ``None``.
    """
    paces = {"words_per_minute": words_per_minute, "characters_per_minute": characters_per_minute}
    seconds, words, characters, photo = 0.0, 0, 0, False
    audio_scenes = []
    for index, scene in enumerate(request.video_inputs):
        voice = scene.voice
        if voice.type == "silence":
            seconds += float(voice.duration or 0)
        elif voice.type == "audio":
            audio_scenes.append(index)
        else:
            text = voice.input_text or ""
            scene_words, scene_characters = spoken_units(text)
            words, characters = words + scene_words, characters + scene_characters
            seconds += spoken_seconds(text, voice.speed, **paces)
        photo = photo or scene.character.type in ("talking_photo", "image")
    assumed = _unscripted(label, [f"video_inputs[{index}]" for index in audio_scenes], unscripted_scene_seconds)
    seconds += len(audio_scenes) * (unscripted_scene_seconds or 0.0)
    engine = str(request.engine or DEFAULT_ENGINE)
    if engine == DEFAULT_ENGINE and photo:
        engine = PHOTO_AVATAR_IV
    return _row(label, seconds, engine, prices, words=words, characters=characters, assumed=assumed)


def estimate_template(
    label: str,
    scripts: Sequence[str],
    variables: Mapping[str, Any],
    prices: Mapping[str, float],
    *,
    words_per_minute: float = WORDS_PER_MINUTE,
    characters_per_minute: float = CHARACTERS_PER_MINUTE,
    unscripted_scene_seconds: float | None = None,
) -> RowEstimate:
    """
    The estimate of one template render: its scenes' scripts with the row's text variables in place.

    :param scripts: the template's scene scripts (:meth:`~heygen_provider.models.template.Template.scripts`),
        ``""`` for a scene without one (an audio scene).
    :param variables: the generate call's ``variables`` (HeyGen's shape).
    :param unscripted_scene_seconds: what each scene without a script is counted as; ``None``: such a
        scene, or a template without scenes, cannot be estimated and is refused.
    :raises HeyGenBudgetInputError: naming each scene that cannot be estimated.
    """
    paces = {"words_per_minute": words_per_minute, "characters_per_minute": characters_per_minute}
    texts = {
        name: str((value.get("properties") or {}).get("content", ""))
        for name, value in variables.items()
        if isinstance(value, Mapping) and value.get("type") == "text"
    }
    if not scripts and unscripted_scene_seconds is None:
        raise HeyGenBudgetInputError(
            [f"{one_line(label)}: the template lists no scenes, so its length cannot be estimated; {_GIVE_LENGTH}"]
        )
    unscripted = [f"scene {index + 1}" for index, script in enumerate(scripts) if not script.strip()]
    assumed = _unscripted(label, unscripted, unscripted_scene_seconds)
    spoken = [_PLACEHOLDER.sub(lambda match: texts.get(match.group(1), ""), script) for script in scripts]
    seconds = sum(spoken_seconds(text, **paces) for text in spoken if text.strip())
    # A template without scenes, once its length is given, counts as one such scene.
    unknown_scenes = len(unscripted) if scripts else 1
    seconds += unknown_scenes * (unscripted_scene_seconds or 0.0)
    units = [spoken_units(text) for text in spoken]
    words, characters = sum(unit[0] for unit in units), sum(unit[1] for unit in units)
    return _row(label, seconds, TEMPLATE_ENGINE, prices, words=words, characters=characters, assumed=assumed)


def invalid_row(label: str, problems: Sequence[str]) -> RowEstimate:
    """A row that will fail before it is paid for: it is listed with its problems and costs nothing."""
    return RowEstimate(label=label, seconds=0.0, cost_usd=0.0, engine="", problems=tuple(problems))


def remaining_credit(quota: RemainingQuota) -> tuple[float, str] | None:
    """
    What ``GET /v3/users/me`` (or the legacy quota call) says is left, as ``(amount, "USD" | "credits")``;
    ``None`` when nothing runs out (usage-based billing without a spending cap).
    """
    if math.isnan(quota.remaining_credits):
        # NaN compares False with everything: read as a balance, it would pass any budget.
        raise HeyGenMalformedResponseError(
            f"the account's remaining credit is not a number (got {quota.remaining_quota!r}); "
            "pass check_credit=False to skip the credit check",
            status_code=200,
        )
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
    :raises HeyGenBudgetInputError: when ``max_cost`` or the estimate's ``seconds_per_credit`` breaks its
        rule, or the estimate is not a finite amount (a price or a pace too large or too small).
    """
    max_cost = _max_cost(max_cost)
    _positive("seconds_per_credit", estimate.seconds_per_credit)
    total = estimate.total_cost_usd
    if not (math.isfinite(total) and math.isfinite(estimate.total_seconds)):
        raise HeyGenBudgetInputError(
            [f"prices, words_per_minute, characters_per_minute: the estimate is not a finite amount (${total})"]
        )
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
    characters_per_minute: float = CHARACTERS_PER_MINUTE,
    seconds_per_credit: float = SECONDS_PER_CREDIT,
    unscripted_scene_seconds: float | None = None,
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
    :param max_cost: refuse above this many USD, a finite number of zero or more; ``None``: no limit but
        the account's credit.
    :param prices: overrides of :data:`PRICE_PER_SECOND_USD` (USD per second, by engine key).
    :param words_per_minute: the speaking pace at voice speed 1, above 0.
    :param characters_per_minute: the pace of scripts that do not separate words (Chinese, Japanese,
        Thai, ...), above 0.
    :param seconds_per_credit: seconds of video one credit buys, for accounts billed in credits; above 0.
    :param unscripted_scene_seconds: what each audio scene is counted as, above 0 (its length is known
        only once HeyGen reads the file); ``None``: a campaign with an audio scene is refused.
    :param check_credit: ask ``GET /v3/users/me`` for the remaining credit and refuse above it.
    :param heygen_conn_id: the connection the renders will use.
    :param log: where to write the estimate (a logger); default this module's.
    :raises HeyGenBudgetExceededError: over ``max_cost`` or the remaining credit.
    :raises HeyGenBudgetInputError: a parameter breaks its rule, or a row has an audio scene and
        ``unscripted_scene_seconds`` is ``None``; before any call to HeyGen.
    :raises HeyGenMalformedResponseError: the account's answer cannot be read (a field of the wrong
        type, a balance that is not a finite number); ``check_credit=False`` skips it.
    """
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoGenerateRequest

    parameters = _Parameters(
        max_cost=max_cost,
        prices=prices,
        words_per_minute=words_per_minute,
        characters_per_minute=characters_per_minute,
        seconds_per_credit=seconds_per_credit,
        unscripted_scene_seconds=unscripted_scene_seconds,
        check_credit=check_credit,
    )
    hook = HeyGenHook(heygen_conn_id)
    fields = set(VideoGenerateRequest.model_fields) | {"extra_fields"}

    def estimate_row(index: int, row: Mapping[str, Any]) -> RowEstimate:
        params = {**(defaults or {}), **{key: value for key, value in row.items() if key in fields}}
        label = str(params.get("title") or f"row {index + 1}")
        try:
            request = VideoGenerateRequest.from_params(params)
            hook.request_body(request)
        except HeyGenRequestValidationError as error:
            return invalid_row(label, error.problems)
        return estimate_request(label, request, parameters.prices_per_second, **parameters.estimating)

    return _judge(_estimate_rows(rows, estimate_row), hook, parameters, log)


def preflight_template_campaign(
    template_id: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    require_all_variables: bool = True,
    max_cost: float | None = None,
    prices: Mapping[str, float] | None = None,
    words_per_minute: float = WORDS_PER_MINUTE,
    characters_per_minute: float = CHARACTERS_PER_MINUTE,
    seconds_per_credit: float = SECONDS_PER_CREDIT,
    unscripted_scene_seconds: float | None = None,
    check_credit: bool = True,
    heygen_conn_id: str = DEFAULT_CONN_ID,
    log: Any = None,
) -> CampaignEstimate:
    """
    :func:`preflight_campaign` for a template campaign: the template is read once (free), each row's
    variables are checked against it as :class:`~heygen_provider.operators.template.HeyGenTemplateVideoOperator`
    checks them, and each video is estimated from the template's scripts with the row's text in place
    (a text variable the row leaves out speaks the template's default).

    :param template_id: the template every row renders.
    :param rows: the operator's parameters per row: ``variables`` (and ``title``, ``dimension``,
        ``scene_ids``, ``extra_fields``), each checked as the operator checks it; other keys are ignored.
    :param require_all_variables: as the operator's parameter of that name.
    :param unscripted_scene_seconds: what each template scene without a script (an audio scene) is
        counted as; ``None``: such a scene, or a template without scenes, is refused.
    :raises HeyGenBudgetExceededError: over ``max_cost`` or the remaining credit.
    :raises HeyGenBudgetInputError: a parameter breaks its rule (before any call to HeyGen), or a scene
        cannot be estimated.
    :raises HeyGenRequestValidationError: ``template_id`` is empty.

    The other parameters are :func:`preflight_campaign`'s.
    """
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models.template import check_template_row, parse_template_id

    parameters = _Parameters(
        max_cost=max_cost,
        prices=prices,
        words_per_minute=words_per_minute,
        characters_per_minute=characters_per_minute,
        seconds_per_credit=seconds_per_credit,
        unscripted_scene_seconds=unscripted_scene_seconds,
        check_credit=check_credit,
    )
    hook = HeyGenHook(heygen_conn_id)
    # Read and checked as the operator reads and checks them, by the same functions.
    template = hook.get_template(parse_template_id(template_id))
    # A text variable a row leaves out (require_all_variables=False) is spoken with its default.
    defaults = {
        name: {"type": "text", "properties": variable.properties}
        for name, variable in template.variables.items()
        if variable.type == "text"
    }

    def estimate_row(index: int, row: Mapping[str, Any]) -> RowEstimate:
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
            return invalid_row(label, checked.all_problems)
        scripts = template.scripts(checked.scene_ids)
        variables = {**defaults, **checked.variables}
        return estimate_template(label, scripts, variables, parameters.prices_per_second, **parameters.estimating)

    return _judge(_estimate_rows(rows, estimate_row), hook, parameters, log)


def _estimate_rows(
    rows: Sequence[Mapping[str, Any]], estimate_row: Callable[[int, Mapping[str, Any]], RowEstimate]
) -> list[RowEstimate]:
    """
    Every row's estimate; the scenes no row could estimate are refused together, after every row.

    :raises HeyGenBudgetInputError: naming each scene of each row that cannot be estimated.
    """
    estimates = []
    unknown: list[str] = []
    for index, row in enumerate(rows):
        try:
            estimates.append(estimate_row(index, row))
        except HeyGenBudgetInputError as error:
            unknown += error.problems
    if unknown:
        raise HeyGenBudgetInputError(unknown)
    return estimates


def _judge(estimates: list[RowEstimate], hook: Any, parameters: _Parameters, log: Any) -> CampaignEstimate:
    """The campaign's estimate with the account's remaining credit, logged, and refused when over budget."""
    remaining = remaining_credit(hook.get_remaining_quota()) if parameters.check_credit else None
    estimate = CampaignEstimate(
        rows=tuple(estimates),
        remaining=remaining,
        seconds_per_credit=parameters.seconds_per_credit,
        words_per_minute=parameters.words_per_minute,
        characters_per_minute=parameters.characters_per_minute,
    )
    (log or logging.getLogger(__name__)).info("%s", estimate.describe())
    check_budget(estimate, max_cost=parameters.max_cost)
    return estimate


def _row(
    label: str,
    seconds: float,
    engine: str,
    prices: Mapping[str, float],
    *,
    words: int,
    characters: int,
    assumed: str,
) -> RowEstimate:
    price = prices.get(engine, prices.get(DEFAULT_ENGINE, PRICE_PER_SECOND_USD[DEFAULT_ENGINE]))
    return RowEstimate(
        label=label,
        seconds=seconds,
        cost_usd=seconds * price,
        engine=engine,
        words=words,
        assumed=assumed,
        characters=characters,
    )


_GIVE_LENGTH = (
    "pass unscripted_scene_seconds (the longest such a scene may be, in seconds) to count each at that length"
)


def _unscripted(label: str, scenes: Sequence[str], seconds: float | None) -> str:
    """
    What a row's scenes without a script are assumed to last (``""`` without any).

    :raises HeyGenBudgetInputError: naming them, when ``seconds`` (``unscripted_scene_seconds``) is ``None``.
    """
    if not scenes:
        return ""
    if seconds is None:
        raise HeyGenBudgetInputError(
            [
                f"{one_line(label)}: {', '.join(scenes)}: a scene without a script (an audio scene) has a length "
                f"known only once HeyGen reads its file, so its cost cannot be estimated; {_GIVE_LENGTH}"
            ]
        )
    return f"{len(scenes)} scene(s) without a script counted as {seconds:g} s each (unscripted_scene_seconds)"


def _finite(name: str, value: Any, rule: str, *, above_zero: bool = False) -> float:
    """
    ``value`` as a finite float of zero or more (above zero with ``above_zero``).

    :param rule: what the value must be, for the error.
    :raises HeyGenBudgetInputError: naming ``name``, the rule and the value; a bool (an ``int`` in Python),
        text, NaN, an infinity and an integer too large for a float are refused too.
    """
    number = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number) or number < 0 or (above_zero and number == 0):
        raise HeyGenBudgetInputError([f"{name}: must be {rule} (got {value!r})"])
    return number


def _positive(name: str, value: Any) -> float:
    return _finite(name, value, "a finite number above 0", above_zero=True)


def _max_cost(value: Any) -> float | None:
    if value is None:
        return None
    return _finite("max_cost", value, "a finite number of USD, zero or more, or None for no limit but the credit")


def _check_paces(*, words_per_minute: Any, characters_per_minute: Any) -> None:
    _positive("words_per_minute", words_per_minute)
    _positive("characters_per_minute", characters_per_minute)


@dataclass(frozen=True)
class _Parameters:
    """
    The parameters both preflights share, as they were given, checked together when made: before any call
    to HeyGen.

    :raises HeyGenBudgetInputError: listing each parameter that breaks its rule.
    """

    max_cost: float | None
    prices: Mapping[str, float] | None
    words_per_minute: float
    characters_per_minute: float
    seconds_per_credit: float
    unscripted_scene_seconds: float | None
    check_credit: bool
    #: USD per second by engine: :data:`PRICE_PER_SECOND_USD` with ``prices`` applied (:func:`price_table`).
    prices_per_second: Mapping[str, float] = field(init=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        table: dict[str, float] = {}
        checks: list[Callable[[], object]] = [
            lambda: _max_cost(self.max_cost),
            lambda: _check_paces(
                words_per_minute=self.words_per_minute, characters_per_minute=self.characters_per_minute
            ),
            lambda: _positive("seconds_per_credit", self.seconds_per_credit),
            lambda: (
                self.unscripted_scene_seconds is None
                or _positive("unscripted_scene_seconds", self.unscripted_scene_seconds)
            ),
            lambda: table.update(price_table(self.prices)),
        ]
        if not isinstance(self.check_credit, bool):
            problems.append(f"check_credit: must be True or False (got {self.check_credit!r})")
        for check in checks:
            try:
                check()
            except HeyGenBudgetInputError as error:
                problems += error.problems
        if problems:
            raise HeyGenBudgetInputError(problems)
        # The one field made here; frozen, so set as the dataclass sets its fields.
        object.__setattr__(self, "prices_per_second", table)

    @property
    def estimating(self) -> dict[str, Any]:
        """The keyword arguments :func:`estimate_request` and :func:`estimate_template` share."""
        return {
            "words_per_minute": self.words_per_minute,
            "characters_per_minute": self.characters_per_minute,
            "unscripted_scene_seconds": self.unscripted_scene_seconds,
        }


def _amount(amount: float, unit: str) -> str:
    return f"${amount:.2f}" if unit == "USD" else f"{amount:g} credits"
