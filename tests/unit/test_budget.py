"""
The budget before paying: the duration and cost estimate, the override table, and the refusal, with the
account's credit read from the emulator over loopback (``GET /v3/users/me``) and no render posted.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from heygen_provider.campaign.budget import (
    PRICE_PER_SECOND_USD,
    CampaignEstimate,
    RowEstimate,
    check_budget,
    estimate_request,
    estimate_template,
    preflight_campaign,
    price_table,
    remaining_credit,
    spoken_seconds,
)
from heygen_provider.exceptions import HeyGenBudgetExceededError
from heygen_provider.models import VideoGenerateRequest


def words(count: int) -> str:
    return " ".join(["word"] * count)


def request(*scenes: dict[str, Any], **fields: Any) -> VideoGenerateRequest:
    return VideoGenerateRequest.from_params({"video_inputs": list(scenes), **fields})


def speaking(text: str, speed: float | None = None, character: dict[str, Any] | None = None) -> dict[str, Any]:
    voice: dict[str, Any] = {"type": "text", "voice_id": "v", "input_text": text}
    if speed is not None:
        voice["speed"] = speed
    return {"character": character or {"type": "avatar", "avatar_id": "a"}, "voice": voice}


def row(text: str, title: str) -> dict[str, Any]:
    return {"title": title, "file_stem": title.lower(), "video_inputs": [speaking(text)]}


class TestSpokenDuration:
    def test_150_words_take_a_minute_at_normal_speed_and_less_when_faster(self) -> None:
        assert spoken_seconds(words(150)) == pytest.approx(60.0)
        assert spoken_seconds(words(150), 1.5) == pytest.approx(40.0)
        assert spoken_seconds(words(150), 0.5) == pytest.approx(120.0)

    def test_a_word_still_takes_a_second(self) -> None:
        assert spoken_seconds("Hi") == 1.0

    def test_the_pace_can_be_changed(self) -> None:
        assert spoken_seconds(words(100), words_per_minute=120) == pytest.approx(50.0)


class TestCost:
    def test_a_studio_avatar_on_avatar_iv_is_priced_per_second(self) -> None:
        estimate = estimate_request("r", request(speaking(words(150))), PRICE_PER_SECOND_USD)
        assert estimate.engine == "avatar_iv" and estimate.words == 150
        assert estimate.cost_usd == pytest.approx(60 * 0.0667)

    def test_a_photo_avatar_and_avatar_iii_have_their_own_prices(self) -> None:
        photo = speaking(words(150), character={"type": "talking_photo", "talking_photo_id": "p"})
        assert estimate_request("r", request(photo), PRICE_PER_SECOND_USD).cost_usd == pytest.approx(60 * 0.05)
        cheaper = request(speaking(words(150)), engine="avatar_iii")
        assert estimate_request("r", cheaper, PRICE_PER_SECOND_USD).cost_usd == pytest.approx(60 * 0.0433)

    def test_silence_counts_its_duration_and_audio_the_length_given_said_aloud(self) -> None:
        silence = {"character": {"type": "avatar", "avatar_id": "a"}, "voice": {"type": "silence", "duration": 4}}
        audio = {
            "character": {"type": "avatar", "avatar_id": "a"},
            "voice": {"type": "audio", "audio_url": "https://example.com/a.mp3"},
        }
        estimate = estimate_request("r", request(silence, audio), PRICE_PER_SECOND_USD, unscripted_scene_seconds=60)
        assert estimate.seconds == pytest.approx(64.0)
        assert "1 scene(s) without a script counted as 60 s each" in estimate.assumed

    def test_a_template_counts_its_scripts_with_the_row_text_in_place(self) -> None:
        variables = {"name": {"type": "text", "properties": {"content": words(149)}}}
        estimate = estimate_template("r", ["Hi {{ name }}", "{{missing}}"], variables, PRICE_PER_SECOND_USD)
        assert estimate.words == 150 and estimate.seconds == pytest.approx(60.0)
        assert estimate.engine == "template"


class TestOverrideTable:
    def test_an_override_replaces_one_price_and_keeps_the_others(self) -> None:
        table = price_table({"avatar_iv": 0.1, "my_engine": 0.02})
        assert table["avatar_iv"] == 0.1 and table["my_engine"] == 0.02
        assert table["avatar_iii"] == PRICE_PER_SECOND_USD["avatar_iii"]
        estimate = estimate_request("r", request(speaking(words(150))), table)
        assert estimate.cost_usd == pytest.approx(6.0)

    @pytest.mark.parametrize("price", [-1, "cheap", True, float("nan")])
    def test_a_bad_override_names_the_engine(self, price: Any) -> None:
        with pytest.raises(ValueError, match=r"prices\['avatar_iv'\]: must be a finite number"):
            price_table({"avatar_iv": price})


def estimate_of(*costs: float, remaining: tuple[float, str] | None = None) -> CampaignEstimate:
    rows = tuple(
        RowEstimate(f"row {i}", seconds=cost / 0.05, cost_usd=cost, engine="x") for i, cost in enumerate(costs)
    )
    return CampaignEstimate(rows=rows, remaining=remaining)


class TestRefusal:
    def test_over_max_cost_is_refused_with_the_estimate(self) -> None:
        with pytest.raises(HeyGenBudgetExceededError) as refused:
            check_budget(estimate_of(3.0, 2.5), max_cost=5.0)
        text = str(refused.value)
        assert "$5.50" in text and "over max_cost $5.00" in text and "Nothing was submitted" in text
        assert "- row 1: 50 s, $2.50" in text

    def test_within_max_cost_and_credit_passes(self) -> None:
        check_budget(estimate_of(3.0, 2.0, remaining=(5.0, "USD")), max_cost=5.0)

    def test_over_the_remaining_balance_is_refused(self) -> None:
        with pytest.raises(HeyGenBudgetExceededError, match=r"remaining balance of \$4\.00"):
            check_budget(estimate_of(3.0, 2.0, remaining=(4.0, "USD")))

    def test_credits_are_compared_as_minutes_of_video(self) -> None:
        check_budget(estimate_of(3.0, remaining=(1.0, "credits")))  # 60 s of video, one credit
        with pytest.raises(HeyGenBudgetExceededError, match=r"needs about 1\.2 credits"):
            check_budget(estimate_of(3.6, remaining=(1.0, "credits")))


class TestUsageBasedBilling:
    """GET /v3/users/me on metered billing: remaining_credits may be null, with or without a spending cap."""

    @staticmethod
    def remaining(usage: dict[str, Any]) -> tuple[float, str] | None:
        from heygen_provider.models import RemainingQuota

        return remaining_credit(RemainingQuota.from_v3_user({"billing_type": "usage_based", "usage_based": usage}))

    def test_without_a_cap_nothing_is_refused_for_credit(self) -> None:
        remaining = self.remaining({"remaining_credits": None, "spending_cap_usd": None})
        assert remaining is None  # no limit, and no infinity to reach XCom's JSON
        estimate = estimate_of(300.0, remaining=remaining)
        check_budget(estimate)  # was refused: read as 0 credits
        assert json.loads(json.dumps(estimate.as_json(), allow_nan=False))["remaining"] is None

    def test_a_cap_leaves_its_headroom_in_usd(self) -> None:
        remaining = self.remaining({"spending_cap_usd": 20.0, "spending_current_usd": 16.0})
        assert remaining == (4.0, "USD")
        with pytest.raises(HeyGenBudgetExceededError, match=r"remaining balance of \$4\.00"):
            check_budget(estimate_of(5.0, remaining=remaining))


class TestPreflightAgainstTheEmulator:
    @pytest.fixture(autouse=True)
    def _connection(self, heygen_connection: Any) -> None:
        return None

    def test_refuses_before_any_render_when_the_credit_is_short(self, heygen_emulator: Any) -> None:
        heygen_emulator.update_settings(remaining_quota=60.0)  # $4.00 at the emulator's price
        rows = [row(words(150), "North"), row(words(150), "South")]

        with pytest.raises(HeyGenBudgetExceededError, match=r"remaining balance of \$4\.00"):
            preflight_campaign(rows)

        assert heygen_emulator.requests(method="POST") == []
        assert len(heygen_emulator.requests(method="GET", path="/v3/users/me")) == 1

    def test_refuses_over_max_cost_and_passes_within_it(self, heygen_emulator: Any) -> None:
        rows = [row(words(150), "North"), row(words(75), "South")]

        with pytest.raises(HeyGenBudgetExceededError, match="over max_cost"):
            preflight_campaign(rows, max_cost=5.0)
        estimate = preflight_campaign(rows, max_cost=7.0, prices={"avatar_iv": 0.05})

        assert estimate.total_seconds == pytest.approx(90.0)
        assert estimate.total_cost_usd == pytest.approx(4.5)
        assert heygen_emulator.requests(method="POST") == []

    def test_an_invalid_row_is_listed_and_not_counted(self, heygen_emulator: Any) -> None:
        bad = {"title": "West", "video_inputs": [speaking(words(10), speed=3.0)]}
        estimate = preflight_campaign([row(words(150), "North"), bad], defaults={"dimension": "720p"})

        north, west = estimate.as_json()["rows"]
        assert north["label"] == "North" and north["problems"] == []
        assert west["label"] == "West" and "speed" in west["problems"][0]
        assert estimate.total_seconds == pytest.approx(60.0)
        assert "West: invalid, not counted" in estimate.describe()


class TestTemplatePreflight:
    """The template preflight refuses each row the operator would refuse, with the operator's words."""

    VARIABLES: ClassVar[dict[str, str]] = {
        "manager_name": "Astrid Nilsen",
        "region": "North",
        "headline": "Revenue was up.",
        "logo": "https://www.example.com/logos/north.png",
    }

    @pytest.fixture(autouse=True)
    def _connection(self, heygen_connection: Any) -> None:
        return None

    @pytest.mark.parametrize(
        ("fields", "problem"),
        [
            ({"scene_ids": ["scene_intro", "scene_outro"]}, "scene_ids[1]: template tpl_weekly_update has no scene"),
            ({"scene_ids": '["scene_intro", 7]'}, "scene_ids: must be a list of scene ids"),
            ({"dimension": {"width": 1281, "height": 720}}, "dimension.width: must be an even number of pixels"),
            ({"dimension": "720p"}, "dimension: must be a list or object"),
            ({"extra_fields": ["folder"]}, "extra_fields: must be an object"),
            ({"variables": "[1, 2]"}, "variables: must be an object (got list)"),
        ],
    )
    def test_a_row_the_operator_would_refuse_is_listed_and_not_counted(
        self, heygen_emulator: Any, fields: dict[str, Any], problem: str
    ) -> None:
        from heygen_provider.campaign.budget import preflight_template_campaign
        from heygen_provider.exceptions import HeyGenRequestValidationError
        from heygen_provider.operators.template import HeyGenTemplateVideoOperator

        good = {"title": "North", "variables": self.VARIABLES}
        bad = {"title": "South", "variables": {**self.VARIABLES, "region": "South"}, **fields}
        estimate = preflight_template_campaign("tpl_weekly_update", [good, bad])

        north, south = estimate.as_json()["rows"]
        assert north["problems"] == [] and north["seconds"] > 0
        assert south["cost_usd"] == 0 and any(line.startswith(problem) for line in south["problems"]), south
        assert estimate.total_seconds == pytest.approx(north["seconds"])
        # The operator, given the same row, refuses it with the same problems and posts nothing.
        operator = HeyGenTemplateVideoOperator(task_id="render", template_id="tpl_weekly_update", **bad)
        with pytest.raises(HeyGenRequestValidationError) as refused:
            operator.prepare_render(operator.hook)
        assert refused.value.problems == south["problems"]
        assert heygen_emulator.requests(method="POST") == []
