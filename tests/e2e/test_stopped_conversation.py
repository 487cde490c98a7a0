"""A conversation Rasa's circuit breaker stopped (a dialogue loop of 10 actions) goes on at the next message."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_restart import _sender_id

pytestmark = pytest.mark.e2e


def test_a_conversation_stopped_by_rasas_circuit_breaker_answers_the_next_message(live_stack: RunningStack) -> None:
    live_stack.say("stopped-1", "/greet", language="en")
    sender_id = _sender_id(live_stack, "stopped-1")
    # The state a dialogue loop leaves: 10 predicted actions since the last action_listen.
    loop = [{"event": "action", "name": "action_default_fallback"}] * 10
    response = httpx.post(
        f"{live_stack.settings.rasa.url}/conversations/{sender_id}/tracker/events",
        params={"token": live_stack.stack.env["MC_RASA_TOKEN"]}, json=loop, timeout=10,
    )
    assert response.status_code == 200, response.text
    replies = live_stack.say("stopped-1", "/ask_payment")
    assert [(r.get("custom") or {}).get("intent") for r in replies][:1] == ["ask_payment"], replies
