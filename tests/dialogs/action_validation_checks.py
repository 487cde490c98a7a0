"""Checks of dialogs/rasa_addons/action_validation.py and server.py, run by the Rasa venv (rasa 3.6).

    .venv-rasa/bin/python tests/dialogs/action_validation_checks.py
prints one JSON object: {check name: "ok" | failure text}. tests/dialogs/test_action_validation.py runs it.
"""

import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dialogs"))

from check_report import report
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
from rasa_addons import action_validation, server

ORIGINAL = RemoteAction._validate_action_result
ACTION = RemoteAction("action_answer_knowledge", EndpointConfig("http://127.0.0.1:1/webhook"))
VALID = {
    "events": [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}],
    "responses": [{"text": "An answer", "buttons": [{"title": "More", "payload": "/ask_more"}],
                   "custom": {"knowledge": {"id": "visa-s2", "source": "visa.md"}}}],
}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "en"}], "responses": {"text": "a dict"}},
    {"events": [{"no_event_key": 1}], "responses": []},
]


def rasa_error(result: dict) -> str:
    try:
        ORIGINAL(ACTION, result)
    except ValidationError as error:
        return error.message
    raise AssertionError(f"Rasa's own check accepted {result}")


def installed_validator_accepts_what_rasa_accepts() -> None:
    action_validation.install()
    assert ORIGINAL(ACTION, VALID) is True
    assert ACTION._validate_action_result(VALID) is True


def invalid_responses_fail_with_rasas_error() -> None:
    action_validation.install()
    for result in INVALID:
        expected = rasa_error(result)
        try:
            ACTION._validate_action_result(result)
        except ValidationError as error:
            assert error.message == expected, (error.message, expected)
        else:
            raise AssertionError(f"accepted {result}")


def the_schema_is_checked_once_not_per_response() -> None:
    action_validation.install()
    validator_class = validators.validator_for(RemoteAction.action_response_format_spec())
    action_validation.response_validator.cache_clear()
    with mock.patch.object(validator_class, "check_schema", wraps=validator_class.check_schema) as check:
        for _ in range(5):
            ACTION._validate_action_result(VALID)
    assert check.call_count == 1, f"schema checked {check.call_count} times for 5 responses"


def the_server_entry_point_installs_before_rasa_starts() -> None:
    RemoteAction._validate_action_result = ORIGINAL
    seen = []
    with mock.patch.object(server, "main", lambda: seen.append(RemoteAction._validate_action_result)):
        server.run()
    assert seen == [action_validation.validate_action_result], seen


CHECKS = [
    installed_validator_accepts_what_rasa_accepts,
    invalid_responses_fail_with_rasas_error,
    the_schema_is_checked_once_not_per_response,
    the_server_entry_point_installs_before_rasa_starts,
]


def main() -> None:
    report(CHECKS, lambda check: check())


if __name__ == "__main__":
    main()
