"""Where a task remembers its submitted video: the task state store, or an Airflow Variable."""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider.idempotency import request_fingerprint
from heygen_provider.operators.submission_record import (
    STATE_STORE_KEY,
    VARIABLE_PREFIX,
    StateStoreRecord,
    Submission,
    VariableRecord,
    submission_record_for,
)
from tests.fixtures.operators import FakeStateStore, FakeTI, FakeVariables
from tests.fixtures.scenes import scene

SUBMISSION = Submission("vid-1", "f" * 64)


class TestStateStoreRecord:
    def test_round_trip(self) -> None:
        store = FakeStateStore()
        record = StateStoreRecord(store)
        assert record.load() is None
        record.save(SUBMISSION)
        assert StateStoreRecord(store).load() == SUBMISSION
        assert set(store.data) == {STATE_STORE_KEY}

    def test_a_later_save_replaces_the_earlier(self) -> None:
        record = StateStoreRecord(FakeStateStore())
        record.save(SUBMISSION)
        record.save(Submission("vid-2", "e" * 64))
        assert record.load() == Submission("vid-2", "e" * 64)

    @pytest.mark.parametrize("stored", ["not json", {"request_fingerprint": "x"}, {"video_id": ""}, 42])
    def test_unreadable_values_mean_no_submission(self, stored: Any) -> None:
        store = FakeStateStore()
        store.set(STATE_STORE_KEY, stored)
        assert StateStoreRecord(store).load() is None


class TestVariableRecord:
    def test_round_trip_and_forget(self, fake_variables: FakeVariables) -> None:
        record = VariableRecord(VARIABLE_PREFIX + "d.t.-1.r")
        assert record.load() is None
        record.save(SUBMISSION)
        assert VariableRecord(record.key).load() == SUBMISSION
        record.forget()
        assert fake_variables.deleted == [record.key]
        assert record.load() is None

    def test_a_first_try_says_why_airflow_logged_a_missing_variable(
        self, fake_variables: FakeVariables, caplog: pytest.LogCaptureFixture
    ) -> None:
        record = VariableRecord(VARIABLE_PREFIX + "d.t.-1.r")
        with caplog.at_level("INFO", logger="heygen_provider.operators.submission_record"):
            record.load()
            record.save(SUBMISSION)
            record.load()
        [line] = [entry for entry in caplog.records if entry.name == "heygen_provider.operators.submission_record"]
        assert line.levelname == "INFO"
        expected = f"No earlier submission recorded in Variable {record.key}: this is the first submit."
        assert line.getMessage() == expected


class TestChoice:
    def test_the_state_store_when_the_context_has_one(self) -> None:
        store = FakeStateStore()
        record = submission_record_for({"ti": FakeTI(), "task_state_store": store})
        assert isinstance(record, StateStoreRecord)
        record.save(SUBMISSION)
        assert store.data

    def test_a_variable_named_after_the_task_instance_otherwise(self, fake_variables: FakeVariables) -> None:
        ti = FakeTI(dag_id="videos", task_id="render", run_id="scheduled__2026-03-01T00:00:00+00:00", map_index=3)
        record = submission_record_for({"ti": ti})
        assert isinstance(record, VariableRecord)
        # Readable DAG id for people browsing Variables, then a digest of the whole task instance identity.
        assert record.key.startswith(f"{VARIABLE_PREFIX}videos.")
        assert len(record.key) <= 250
        record.save(SUBMISSION)
        assert list(fake_variables.data) == [record.key]

    def test_every_map_index_and_run_has_its_own_variable(self) -> None:
        keys = {
            submission_record_for({"ti": FakeTI(map_index=index, run_id=run)}).key  # type: ignore[attr-defined]
            for index in (-1, 0, 1)
            for run in ("run_a", "run_b")
        }
        assert len(keys) == 6

    def test_very_long_run_ids_keep_the_key_within_250_characters(self) -> None:
        keys = {
            submission_record_for({"ti": FakeTI(run_id=f"manual__{suffix}" + "x" * 400)}).key  # type: ignore[attr-defined]
            for suffix in ("a", "b")
        }
        assert all(len(key) <= 250 and key.startswith(VARIABLE_PREFIX) for key in keys)
        assert len(keys) == 2

    def test_distinct_task_instances_never_share_a_variable(self) -> None:
        first = submission_record_for({"ti": FakeTI(dag_id="a.b", task_id="c", run_id="scheduled__2026-01-01")})
        second = submission_record_for({"ti": FakeTI(dag_id="a", task_id="b.c", run_id="scheduled__2026-01-01")})
        assert first.key != second.key  # type: ignore[attr-defined]


class TestFingerprint:
    def test_stable_under_key_order(self) -> None:
        payload = {"video_inputs": [scene()], "title": "T", "dimension": {"width": 1280, "height": 720}}
        reordered = {
            "dimension": {"height": 720, "width": 1280},
            "title": "T",
            "video_inputs": [{"voice": scene()["voice"], "character": scene()["character"]}],
        }
        assert request_fingerprint(payload) == request_fingerprint(reordered)

    def test_changes_with_the_request(self) -> None:
        assert request_fingerprint({"video_inputs": [scene("a")]}) != request_fingerprint(
            {"video_inputs": [scene("b")]}
        )
