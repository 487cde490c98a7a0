"""A restart of the application and of Rasa in the middle of a conversation keeps its state."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


def _tracker_user_texts(running: RunningStack, sender_id: str) -> list[str]:
    token = running.stack.env["MC_RASA_TOKEN"]
    tracker = httpx.get(
        f"{running.settings.rasa.url}/conversations/{sender_id}/tracker", params={"token": token}, timeout=10
    ).json()
    return [event.get("text") for event in tracker["events"] if event.get("event") == "user"]


def _sender_id(running: RunningStack, external_id: str) -> str:
    import sqlite3

    path = running.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT sender_id FROM patients WHERE external_id = ?", (external_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_restart_of_app_and_rasa_keeps_the_conversation(own_stack: RunningStack) -> None:
    own_stack.say("restart-1", "hello")
    own_stack.say("restart-1", "tell me a joke")
    sender_id = _sender_id(own_stack, "restart-1")
    before = _tracker_user_texts(own_stack, sender_id)
    assert before == ["hello", "tell me a joke"]

    own_stack.stack.restart("rasa")
    own_stack.stack.restart("app")

    replies = own_stack.say("restart-1", "goodbye")
    assert replies and replies[0]["text"]
    assert _sender_id(own_stack, "restart-1") == sender_id
    assert _tracker_user_texts(own_stack, sender_id) == [*before, "goodbye"]
