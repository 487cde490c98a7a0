"""The Rasa server's cached SQL tracker store (dialogs/rasa_addons), checked in the Rasa venv on SQLite and PG."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import throwaway_postgres_database
from tests.dialogs.rasa_venv import run_check_script

CHECKS_SCRIPT = Path(__file__).with_name("tracker_store_checks.py")
CHECK_NAMES = [
    "saved_tracker_is_reused_and_matches_rasas_own_store",
    "unsaved_changes_are_not_handed_out",
    "another_instances_writes_are_seen",
    "another_instances_turns_are_replayed_onto_the_kept_tracker",
    "a_new_session_from_another_instance_is_loaded_in_full",
    "erased_rows_are_not_brought_back",
    "a_new_session_hands_out_only_its_events",
    "only_cache_size_conversations_are_kept",
    "turns_reuse_one_database_connection",
    "a_long_new_tracker_is_written_in_batches",
    "database_work_leaves_the_event_loop_free",
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield run_check_script(CHECKS_SCRIPT, f"sqlite:///{tmp_path_factory.mktemp('tracker') / 'tracker.db'}")
        return
    with throwaway_postgres_database("mc_tracker") as url:
        yield run_check_script(CHECKS_SCRIPT, url.replace("postgresql+psycopg://", "postgresql://"))


def test_every_check_of_the_script_is_listed(outcomes: dict[str, str]) -> None:
    assert sorted(outcomes) == sorted(CHECK_NAMES)


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_tracker_store(outcomes: dict[str, str], check: str) -> None:
    assert outcomes.get(check) == "ok", outcomes.get(check, "check did not run")
