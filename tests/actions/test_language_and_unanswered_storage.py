"""The language choice and unanswered questions reach the application database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import context, core_actions, language_actions
from bot.storage.database import Database
from bot.storage.models import Patient, UnansweredQuestion


@pytest.fixture
async def patient(database: Database, monkeypatch: pytest.MonkeyPatch) -> Patient:
    monkeypatch.setattr(language_actions, "database", lambda: database)
    monkeypatch.setattr(core_actions, "database", lambda: database)
    monkeypatch.setattr(context, "database", lambda: database)
    async with database.session() as session:
        row = Patient(channel="rest", external_id="p-1", sender_id="sender-lang", language="en")
        session.add(row)
    return row


def tracker(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"intent": {"name": intent}, "text": text, "entities": entities or []}
    user = {"event": "user", "text": text, "parse_data": latest, "metadata": {"language": "en"}}
    return Tracker("sender-lang", {}, latest, [user], False, None, {}, "action_listen")


async def _stored_patient(database: Database) -> Patient:
    async with database.session() as session:
        return (await session.execute(select(Patient).where(Patient.sender_id == "sender-lang"))).scalar_one()


async def test_language_button_locks_the_choice(database: Database, patient: Patient) -> None:
    dispatcher = CollectingDispatcher()
    choice = tracker('/choose_language{"ui_language":"ar"}', "choose_language",
                     [{"entity": "ui_language", "value": "ar"}])
    await language_actions.ActionSetLanguage().run(dispatcher, choice, {})
    stored = await _stored_patient(database)
    assert (stored.language, stored.language_locked) == ("ar", True)
    assert dispatcher.messages[0]["custom"] == {"intent": "change_language", "language": "ar"}
    assert "العربية" in dispatcher.messages[0]["text"]


async def test_naming_a_language_offers_it_first_but_does_not_lock(database: Database, patient: Patient) -> None:
    dispatcher = CollectingDispatcher()
    await language_actions.ActionOfferLanguages().run(dispatcher, tracker("Speak Korean please", "change_language"), {})
    stored = await _stored_patient(database)
    assert (stored.language, stored.language_locked) == ("en", False)
    assert dispatcher.messages[0]["buttons"][0]["payload"] == '/choose_language{"ui_language":"ko"}'
    assert dispatcher.messages[0]["custom"] == {"intent": "change_language", "suggested": "ko"}


async def test_unanswered_question_is_stored(database: Database, patient: Patient) -> None:
    await core_actions.log_unanswered(tracker("Can you book me a table for dinner?", "out_of_scope"), "en")
    await core_actions.log_unanswered(tracker("/unknown_payload", "nlu_fallback"), "en")
    async with database.session() as session:
        rows = (await session.execute(select(UnansweredQuestion))).scalars().all()
    assert [(r.text, r.language) for r in rows] == [("Can you book me a table for dinner?", "en")]
