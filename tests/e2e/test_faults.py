"""Faults on the real stack: Rasa down, then back — the patient's message is kept and answered once."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


def _replies_to(running: RunningStack, external_message_id: str) -> list[tuple[str, str]]:
    path = running.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT r.text, COALESCE(r.custom, '') FROM messages m JOIN messages r ON r.reply_to_id = m.id "
            "WHERE m.external_message_id = ? ORDER BY r.id",
            (external_message_id,),
        ).fetchall()
    return [(str(text), str(custom)) for text, custom in rows]


def test_rasa_outage_apologises_keeps_the_message_and_answers_it_once_rasa_is_back(own_stack: RunningStack) -> None:
    own_stack.say("fault-1", "hello")
    own_stack.stack.processes["rasa"].stop()

    replies = own_stack.say("fault-1", "Здравствуйте! Какая виза нужна для лечения?", message_id="kept-1")
    assert replies[0]["custom"] == {"error": "engine_unavailable"}
    assert "сохранено" in replies[0]["text"]

    own_stack.stack.start(("rasa",))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_replies_to(own_stack, "kept-1")) < 2:
        time.sleep(0.5)
    answers = _replies_to(own_stack, "kept-1")
    assert len(answers) == 2, answers  # the apology, then exactly one real answer
    assert "engine_unavailable" not in answers[1][1]

    # The patient's client retries the same message: it is answered from storage, not again.
    again = own_stack.say("fault-1", "Здравствуйте! Какая виза нужна для лечения?", message_id="kept-1")
    assert len(_replies_to(own_stack, "kept-1")) == 2
    assert [r.get("text") for r in again] == [text for text, _ in answers]
