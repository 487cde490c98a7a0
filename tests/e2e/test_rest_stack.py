"""The real stack through the REST channel: Rasa, the action server, the database and back."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


def test_health_reports_every_dependency(live_stack: RunningStack) -> None:
    report = httpx.get(f"{live_stack.url}/healthz", timeout=10).json()
    assert report == {"status": "ok", "database": "ok", "rasa": "ok", "action_server": "ok"}


def test_greeting_in_chinese_comes_back_localized_from_the_action_server(live_stack: RunningStack) -> None:
    replies = live_stack.say("e2e-greet-zh", "你好")
    assert len(replies) == 1
    assert replies[0]["recipient_id"] == "e2e-greet-zh"
    assert "MedConcierge" in replies[0]["text"]
    assert "签证" in replies[0]["text"]


def test_redelivered_message_id_is_answered_once(live_stack: RunningStack) -> None:
    answers = [live_stack.say("e2e-dup", "hello", message_id="m-1") for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert len(answers[0]) == 1


def test_rasa_api_requires_the_token(live_stack: RunningStack) -> None:
    rasa = live_stack.settings.rasa.url
    assert httpx.get(f"{rasa}/status", timeout=5).status_code == 401
