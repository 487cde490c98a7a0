"""The Rasa server's action response check compiled once (dialogs/rasa_addons), checked in the Rasa venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dialogs.rasa_venv import run_check_script

CHECKS_SCRIPT = Path(__file__).with_name("action_validation_checks.py")
CHECK_NAMES = [
    "installed_validator_accepts_what_rasa_accepts",
    "invalid_responses_fail_with_rasas_error",
    "the_schema_is_checked_once_not_per_response",
    "the_server_entry_point_installs_before_rasa_starts",
]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, str]:
    return run_check_script(CHECKS_SCRIPT)


def test_every_check_of_the_script_is_listed(outcomes: dict[str, str]) -> None:
    assert sorted(outcomes) == sorted(CHECK_NAMES)


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_action_validation(outcomes: dict[str, str], check: str) -> None:
    assert outcomes.get(check) == "ok", outcomes.get(check, "check did not run")
