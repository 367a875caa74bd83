"""
The budget holds in every language and refuses what it cannot estimate (issue 27, item 3).

A script without spaces between words (Japanese, Chinese, Thai) is estimated by character, not as one
word; a scene whose length is unknown (an audio scene, a template scene without a script) is refused
unless the user says how long it may be; every numeric parameter, and the account's answer, is checked
with an error naming it before anything is rendered. HeyGen is mocked at the HTTP boundary
(``requests_mock``): a refused preflight must not even have asked the account, and never posts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
import requests_mock
from hypothesis import given, settings
from hypothesis import strategies as st

from heygen_provider.campaign.budget import (
    CHARACTERS_PER_MINUTE,
    PRICE_PER_SECOND_USD,
    CampaignEstimate,
    RowEstimate,
    check_budget,
    estimate_template,
    preflight_campaign,
    preflight_template_campaign,
    spoken_seconds,
)
from heygen_provider.exceptions import (
    HeyGenBudgetExceededError,
    HeyGenBudgetInputError,
    HeyGenMalformedResponseError,
)
from tests.fixtures.connections import BASE_URL, connection_json

#: 960 characters of Japanese, without a space: 「本日は新製品の発表です」 (11 characters) and 「。」.
JAPANESE_SENTENCE = "本日は新製品の発表です。"
JAPANESE_SCRIPT = JAPANESE_SENTENCE * 80
SPOKEN_JAPANESE_CHARACTERS = 11 * 80
AVATAR = {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"}
VOICE_ID = "2d5b0e6cf36f460aa7fc47e3eee4ba54"
WALLET = {"billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": 1000.0}}


def row(text: str, title: str = "東京") -> dict[str, Any]:
    return {
        "title": title,
        "video_inputs": [{"character": AVATAR, "voice": {"type": "text", "voice_id": VOICE_ID, "input_text": text}}],
    }


def audio_row(title: str = "Podcast") -> dict[str, Any]:
    voice = {"type": "audio", "audio_url": "https://cdn.example.com/a-long-interview.mp3"}
    return {"title": title, "video_inputs": [{"character": AVATAR, "voice": voice}]}


@pytest.fixture
def heygen(monkeypatch: pytest.MonkeyPatch) -> Iterator[requests_mock.Mocker]:
    """``heygen_default`` on v3 at HeyGen's address, every call mocked; the account has $1,000."""
    monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection_json(api_version="v3", retry_attempts=1))
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/v3/users/me", json={"data": {"username": "u", **WALLET}})
        yield http


def calls(http: requests_mock.Mocker, method: str | None = None) -> list[str]:
    return [f"{call.method} {call.path}" for call in http.request_history if method in (None, call.method)]


class TestScriptsWithoutSpaces:
    def test_a_960_character_japanese_script_is_estimated_by_character_and_refused_over_budget(
        self, heygen: requests_mock.Mocker
    ) -> None:
        # Was 1 s and $0.07 (one "word"), so max_cost=5 let a 3-minute video through.
        expected = SPOKEN_JAPANESE_CHARACTERS / CHARACTERS_PER_MINUTE * 60  # 176 s

        with pytest.raises(HeyGenBudgetExceededError, match=r"over max_cost \$5\.00"):
            preflight_campaign([row(JAPANESE_SCRIPT)], max_cost=5.0)
        estimate = preflight_campaign([row(JAPANESE_SCRIPT)], max_cost=20.0)

        assert estimate.total_seconds == pytest.approx(expected)
        assert estimate.total_cost_usd == pytest.approx(expected * PRICE_PER_SECOND_USD["avatar_iv"])
        assert estimate.rows[0].characters == SPOKEN_JAPANESE_CHARACTERS
        assert calls(heygen, "POST") == []

    @pytest.mark.parametrize(
        ("script", "characters"),
        [
            ("今天我们发布新产品\uff0c欢迎大家\u3002", 13),  # Chinese: the full-width comma and stop are not said
            ("สวัสดีครับ", 7),  # Thai: the vowel signs above and below are combining marks, not counted
            ("ສະບາຍດີ", 6),  # Lao: 6 letters and a combining vowel sign
            ("សួស្តី", 3),  # Khmer: 3 consonants; the vowel signs and the subscript sign combine
        ],
    )
    def test_other_scripts_without_spaces_count_their_characters(self, script: str, characters: int) -> None:
        assert spoken_seconds(script * 100) == pytest.approx(characters * 100 / CHARACTERS_PER_MINUTE * 60)

    def test_a_mixed_script_counts_words_and_characters_each_its_own_way(self) -> None:
        # 2 words (150 a minute) and 8 characters (300 a minute): 0.8 s + 1.6 s.
        assert spoken_seconds("新しい Airflow provider を使います") == pytest.approx(2 / 150 * 60 + 8 / 300 * 60)

    @settings(max_examples=200, deadline=None)
    @given(
        characters=st.lists(
            st.sampled_from("東京大阪本日新製品発表ひらがなカタカナ中文汉字สวดครบ"), min_size=1, max_size=400
        ),
        spaces=st.lists(st.sampled_from(["", " ", "　", "\n"]), min_size=400, max_size=400),
        speed=st.sampled_from([0.5, 1.0, 1.5]),
    )
    def test_spaces_never_change_an_estimate_by_character(
        self, characters: list[str], spaces: list[str], speed: float
    ) -> None:
        joined = "".join(characters)
        spaced = "".join(character + space for character, space in zip(characters, spaces, strict=False))

        expected = max(1.0, len(characters) / CHARACTERS_PER_MINUTE * 60 / speed)
        assert spoken_seconds(joined, speed) == pytest.approx(expected)
        assert spoken_seconds(spaced, speed) == pytest.approx(expected)


TEMPLATE_WITH_AUDIO = {
    "id": "tpl_podcast",
    "name": "Podcast",
    "variables": {
        "guest": {"name": "guest", "type": "text", "properties": {"content": "our guest"}},
        "interview": {"name": "interview", "type": "audio", "properties": {"url": "https://cdn.example.com/i.mp3"}},
    },
    "scenes": [
        {
            "scene_id": "intro",
            "script": "Welcome {{guest}}.",
            "variables": [{"name": "guest", "variable_type": "text"}],
        },
        {"scene_id": "talk", "variables": [{"name": "interview", "variable_type": "audio"}]},
    ],
}


class TestWhatCannotBeEstimated:
    def test_a_template_scene_without_a_script_is_refused_unless_its_length_is_given(
        self, heygen: requests_mock.Mocker
    ) -> None:
        heygen.get(f"{BASE_URL}/v3/templates/tpl_podcast", json={"data": TEMPLATE_WITH_AUDIO})
        rows = [{"title": "Episode 1", "variables": {"guest": "Ada", "interview": "https://cdn.example.com/ep1.mp3"}}]

        # Was an estimate of 1 s ($0.07): the audio scene counted nothing, and max_cost=1 passed.
        with pytest.raises(HeyGenBudgetInputError) as refused:
            preflight_template_campaign("tpl_podcast", rows, max_cost=1.0)
        assert "Episode 1: scene 2: a scene without a script" in str(refused.value)
        assert "unscripted_scene_seconds" in str(refused.value)
        assert "GET /v3/users/me" not in calls(heygen)

        with pytest.raises(HeyGenBudgetExceededError, match="over max_cost"):
            preflight_template_campaign("tpl_podcast", rows, max_cost=1.0, unscripted_scene_seconds=600)
        estimate = preflight_template_campaign("tpl_podcast", rows, max_cost=100.0, unscripted_scene_seconds=600)
        assert estimate.total_seconds == pytest.approx(601.0)
        assert "1 scene(s) without a script counted as 600 s each" in estimate.describe()
        assert calls(heygen, "POST") == []

    def test_a_template_without_scenes_is_refused(self) -> None:
        with pytest.raises(HeyGenBudgetInputError, match="the template lists no scenes"):
            estimate_template("Episode 1", [], {}, PRICE_PER_SECOND_USD)

    def test_a_text_the_row_leaves_out_is_counted_with_the_template_default(self, heygen: requests_mock.Mocker) -> None:
        template = {**TEMPLATE_WITH_AUDIO, "scenes": [{"scene_id": "intro", "script": "{{guest}}"}]}
        template["variables"] = {"guest": {"name": "guest", "type": "text", "properties": {"content": "word " * 300}}}
        heygen.get(f"{BASE_URL}/v3/templates/tpl_podcast", json={"data": template})

        estimate = preflight_template_campaign(
            "tpl_podcast", [{"title": "Episode 1", "variables": {}}], require_all_variables=False
        )

        assert estimate.total_seconds == pytest.approx(120.0)  # was 0 s: the default text was not counted

    def test_an_audio_scene_of_the_generate_operator_is_refused_unless_its_length_is_given(
        self, heygen: requests_mock.Mocker
    ) -> None:
        # Was counted as 60 s whatever the file's length: a 20-minute interview passed max_cost=5.
        with pytest.raises(HeyGenBudgetInputError, match=r"Podcast: video_inputs\[0\]: a scene without a script"):
            preflight_campaign([audio_row(), row("Hello there")], max_cost=5.0)
        assert calls(heygen) == []

        with pytest.raises(HeyGenBudgetExceededError):
            preflight_campaign([audio_row()], max_cost=5.0, unscripted_scene_seconds=1200)


#: Each parameter and a value that breaks its rule, with the rule's words.
BAD_PARAMETERS: list[tuple[str, Any, str | None]] = [
    ("max_cost", float("nan"), "max_cost: must be a finite number of USD"),
    ("max_cost", "5", "max_cost: must be a finite number of USD"),
    ("max_cost", -1, "max_cost: must be a finite number of USD, zero or more"),
    ("max_cost", math.inf, "max_cost: must be a finite number"),
    ("max_cost", True, "max_cost: must be a finite number"),
    ("max_cost", 10**400, "max_cost: must be a finite number"),
    ("words_per_minute", 0, "words_per_minute: must be a finite number above 0"),
    ("words_per_minute", -150, "words_per_minute: must be a finite number above 0"),
    ("words_per_minute", float("nan"), "words_per_minute: must be a finite number above 0"),
    ("words_per_minute", math.inf, "words_per_minute: must be a finite number above 0"),
    ("words_per_minute", True, "words_per_minute: must be a finite number above 0"),
    ("words_per_minute", "150", "words_per_minute: must be a finite number above 0"),
    ("characters_per_minute", 0, "characters_per_minute: must be a finite number above 0"),
    ("characters_per_minute", float("nan"), "characters_per_minute: must be a finite number above 0"),
    ("seconds_per_credit", 0, "seconds_per_credit: must be a finite number above 0"),
    ("seconds_per_credit", -60, "seconds_per_credit: must be a finite number above 0"),
    ("seconds_per_credit", math.inf, "seconds_per_credit: must be a finite number above 0"),
    ("seconds_per_credit", float("nan"), "seconds_per_credit: must be a finite number above 0"),
    ("unscripted_scene_seconds", 0, "unscripted_scene_seconds: must be a finite number above 0"),
    ("unscripted_scene_seconds", "60", "unscripted_scene_seconds: must be a finite number above 0"),
    ("prices", {"avatar_iv": math.inf}, "prices['avatar_iv']: must be a finite number of USD per second"),
    ("prices", {"avatar_iv": 1e308}, None),  # finite, but the estimate overflows
    ("prices", [("avatar_iv", 0.1)], "prices: must be a mapping"),
    ("check_credit", "no", "check_credit: must be True or False"),
]


class TestEveryParameterIsChecked:
    @pytest.mark.parametrize(("name", "value", "rule"), BAD_PARAMETERS, ids=lambda value: repr(value)[:24])
    def test_a_bad_parameter_is_a_clear_error_before_any_call(
        self, heygen: requests_mock.Mocker, name: str, value: Any, rule: str | None
    ) -> None:
        with pytest.raises(HeyGenBudgetInputError) as refused:
            preflight_campaign([row("Hello there"), row(JAPANESE_SCRIPT)], **{name: value})

        assert isinstance(refused.value, ValueError)  # and an AirflowFailException: a retry cannot mend it
        assert name in str(refused.value)
        if rule is not None:
            assert rule in str(refused.value), str(refused.value)
            assert calls(heygen) == [], "refused before asking the account"
        assert calls(heygen, "POST") == []

    @pytest.mark.parametrize(("name", "value", "rule"), [case for case in BAD_PARAMETERS if case[0] != "prices"])
    def test_the_template_preflight_checks_them_before_reading_the_template(
        self, heygen: requests_mock.Mocker, name: str, value: Any, rule: str
    ) -> None:
        with pytest.raises(HeyGenBudgetInputError, match="must be"):
            preflight_template_campaign("tpl_podcast", [], **{name: value})
        assert calls(heygen) == []

    def test_the_public_functions_check_them_too(self) -> None:
        estimate = CampaignEstimate(
            rows=(RowEstimate("r", seconds=60, cost_usd=4.0, engine="x"),),
            remaining=(1.0, "credits"),
            seconds_per_credit=0,
        )
        with pytest.raises(HeyGenBudgetInputError, match="seconds_per_credit"):
            check_budget(estimate)  # was ZeroDivisionError
        with pytest.raises(HeyGenBudgetInputError, match="max_cost"):
            check_budget(CampaignEstimate(rows=()), max_cost=float("nan"))
        with pytest.raises(HeyGenBudgetInputError, match="speed"):
            spoken_seconds("Hello", -1)
        with pytest.raises(HeyGenBudgetInputError, match="words_per_minute"):
            spoken_seconds("Hello", words_per_minute=0)

    def test_zero_max_cost_refuses_anything_that_costs(self, heygen: requests_mock.Mocker) -> None:
        with pytest.raises(HeyGenBudgetExceededError, match=r"over max_cost \$0\.00"):
            preflight_campaign([row("Hello there")], max_cost=0)

    def test_huge_but_finite_parameters_still_judge(self, heygen: requests_mock.Mocker) -> None:
        estimate = preflight_campaign([row("Hello there")], max_cost=1e308, seconds_per_credit=1e308)
        assert estimate.total_seconds == pytest.approx(1.0)


ODD_ACCOUNTS: list[tuple[dict[str, Any], str]] = [
    ({"billing_type": "subscription", "subscription": "pro"}, "subscription = 'pro'"),
    ({"billing_type": "subscription", "subscription": {"plan": "pro", "credits": ["lots"]}}, "subscription.credits"),
    (
        {"billing_type": "subscription", "subscription": {"credits": {"premium_credits": 5}}},
        "subscription.credits.premium_credits",
    ),
    (
        {"billing_type": "subscription", "subscription": {"credits": {"premium_credits": {"remaining": "500"}}}},
        "subscription.credits.premium_credits.remaining = '500'",
    ),
    (
        {"billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": math.nan}},
        "wallet.remaining_balance",
    ),
    (
        {"billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": "12.5"}},
        "wallet.remaining_balance",
    ),
    (
        {"billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": math.inf}},
        "wallet.remaining_balance",
    ),
    ({"billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": True}}, "wallet.remaining_balance"),
    ({"billing_type": "wallet", "wallet": "empty"}, "wallet = 'empty'"),
    (
        {"billing_type": "wallet", "wallet": {"currency": "eur", "remaining_balance": 100}},
        "wallet.currency = 'eur'",  # was read as 100 credits: 100 minutes of video
    ),
    (
        {"billing_type": "usage_based", "usage_based": {"spending_cap_usd": "20", "spending_current_usd": 0}},
        "usage_based.spending_cap_usd",  # was read as no cap at all: any budget passed
    ),
    ({"billing_type": "usage_based", "usage_based": {"remaining_credits": math.nan}}, "usage_based.remaining_credits"),
    ({"billing_type": "usage_based", "usage_based": ["x"]}, "usage_based"),
]


class TestTheAccountsAnswer:
    @pytest.mark.parametrize(("user", "field"), ODD_ACCOUNTS, ids=lambda value: json.dumps(value)[:40])
    def test_an_answer_that_cannot_be_read_is_a_clear_error_naming_the_field(
        self, heygen: requests_mock.Mocker, user: dict[str, Any], field: str
    ) -> None:
        # Python's json writes NaN and Infinity, as a proxy or a broken serializer might.
        heygen.get(f"{BASE_URL}/v3/users/me", text=json.dumps({"data": {"username": "u", **user}}))

        with pytest.raises(HeyGenMalformedResponseError) as refused:
            preflight_campaign([row("Hello there")], max_cost=100.0)

        assert f"GET /v3/users/me answered {field}" in str(refused.value)
        assert "check_credit=False" in str(refused.value)
        assert calls(heygen, "POST") == []

    def test_a_good_answer_still_judges(self, heygen: requests_mock.Mocker) -> None:
        heygen.get(
            f"{BASE_URL}/v3/users/me",
            json={"data": {"username": "u", "wallet": {"currency": "usd", "remaining_balance": 0.01}}},
        )
        with pytest.raises(HeyGenBudgetExceededError, match=r"remaining balance of \$0\.01"):
            preflight_campaign([row("Hello there")])

    def test_a_credit_pool_heygen_adds_later_is_counted_only_when_readable(self, heygen: requests_mock.Mocker) -> None:
        credits = {"premium_credits": {"remaining": 1}, "trial_credits": "soon", "bonus_credits": {"remaining": 2}}
        user = {"billing_type": "subscription", "subscription": {"plan": "pro", "credits": credits}}
        heygen.get(f"{BASE_URL}/v3/users/me", json={"data": {"username": "u", **user}})

        estimate = preflight_campaign([row("Hello there")])

        assert estimate.remaining == (3.0, "credits")

    @pytest.mark.legacy
    def test_a_nan_legacy_quota_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection_json(retry_attempts=1))
        with requests_mock.Mocker() as http:
            http.get(f"{BASE_URL}/v2/user/remaining_quota", text='{"code": 100, "data": {"remaining_quota": NaN}}')
            with pytest.raises(HeyGenMalformedResponseError, match="remaining credit is not a number"):
                preflight_campaign([row("Hello there")])
