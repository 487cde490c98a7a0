"""Handoff actions against a real database (SQLite and PostgreSQL) with rasa-sdk trackers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from bot.actions import context, handoff_actions
from bot.handoff import cases
from bot.handoff.intake import SKIPPED
from bot.handoff.models import AuditEvent, Case, CasePriority, CaseStage, CaseTrigger
from bot.storage.database import Database
from bot.storage.models import Conversation, ConversationMode, Patient
from tests.handoff.helpers import make_patient

ANSWERS = {
    "intake_name": "Anna",
    "intake_country": "Kazakhstan",
    "intake_treatment": "knee replacement",
    "intake_place": SKIPPED,
    "intake_travel_window": "March",
    "intake_contact": "anna@example.org",
}


@pytest.fixture(autouse=True)
def use_test_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Actions share the application database; point them at the test one."""
    monkeypatch.setattr(context, "database", lambda: database)
    monkeypatch.setattr(handoff_actions, "database", lambda: database)
    yield


def tracker(sender: str, intent: str = "request_human", language: str = "en", text: str = "",
            slots: dict[str, Any] | None = None) -> Tracker:
    message = {"intent": {"name": intent, "confidence": 1.0}, "text": text or f"/{intent}"}
    events = [{"event": "user", "text": message["text"], "parse_data": message, "metadata": {"language": language}}]
    return Tracker(sender, slots or {}, message, events, False, None, {}, "action_listen")


async def run(action: Any, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return dispatcher.messages, events


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_request_asks_consent_in_the_patients_language(database: Database) -> None:
    _, _, sender = await make_patient(database, language="zh")
    messages, events = await run(handoff_actions.ActionHandoffRequest(), tracker(sender, language="zh"))
    assert len(messages) == 1
    assert "PIPL" in messages[0]["text"] and "敏感个人信息" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert messages[0]["custom"] == {"intent": "request_human", "handoff": "consent_requested"}
    assert slot_events(events) == {"handoff_pending": True, "handoff_trigger": "request_human"}
    assert await count(database, Case) == 0


async def test_service_request_and_fallback_offer_record_their_trigger(database: Database) -> None:
    _, _, sender = await make_patient(database)
    _, events = await run(handoff_actions.ActionHandoffRequest(), tracker(sender, "request_service"))
    assert slot_events(events)["handoff_trigger"] == "service_request"
    messages, events = await run(handoff_actions.ActionOfferHandoff(), tracker(sender, "nlu_fallback"))
    assert slot_events(events)["handoff_trigger"] == "fallback"
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_listen"
    assert messages[0]["text"].startswith("I am sorry I could not help with that.")
    assert messages[0]["custom"]["handoff"] == "consent_requested"


async def test_declining_stores_nothing(database: Database) -> None:
    patient_id, _, sender = await make_patient(database)
    await run(handoff_actions.ActionHandoffRequest(), tracker(sender))
    messages, events = await run(handoff_actions.ActionHandoffDeclined(), tracker(sender, "deny"))
    assert messages[0]["custom"] == {"intent": "deny", "handoff": "declined"}
    assert slot_events(events)["handoff_pending"] is False
    assert await count(database, Case) == 0
    assert await count(database, AuditEvent) == 0
    async with database.session() as session:
        patient = await session.get(Patient, patient_id)
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert patient is not None and patient.consent_given_at is None
    assert conversation.mode is ConversationMode.BOT


async def test_consent_then_intake_opens_a_case_with_a_number(database: Database) -> None:
    patient_id, _, sender = await make_patient(database, language="ru")
    messages, events = await run(handoff_actions.ActionHandoffConsentGiven(), tracker(sender, "affirm", "ru"))
    assert messages[0]["custom"]["handoff"] == "intake"
    async with database.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.consent_given_at is not None
    question, _ = await run(handoff_actions.ActionAskIntakeTreatment(), tracker(sender, "affirm", "ru"))
    assert question[0]["text"] == "Своими словами: о каком лечении идёт речь?"
    assert question[0]["buttons"] == [{"title": "Пропустить", "payload": "/skip"}]
    assert question[0]["custom"]["field"] == "treatment"

    slots = {**ANSWERS, "handoff_trigger": "request_human"}
    messages, events = await run(handoff_actions.ActionHandoffSubmit(), tracker(sender, "skip", "ru", slots=slots))
    async with database.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert messages[0]["custom"] == {"intent": "request_human", "handoff": "case_opened", "case_number": case.number}
    assert case.number and case.number in messages[0]["text"] and "Номер вашего обращения" in messages[0]["text"]
    assert case.intake == {"name": "Anna", "country": "Kazakhstan", "treatment": "knee replacement",
                           "preferred_place": None, "travel_window": "March", "contact": "anna@example.org"}
    assert case.consent_at is not None and case.language == "ru" and case.trigger is CaseTrigger.REQUEST_HUMAN
    assert conversation.mode is ConversationMode.HUMAN
    assert all(value is None for name, value in slot_events(events).items() if name.startswith("intake_"))


async def test_submit_without_recorded_consent_stores_no_intake(database: Database) -> None:
    _, _, sender = await make_patient(database)
    await run(handoff_actions.ActionHandoffSubmit(), tracker(sender, slots=dict(ANSWERS)))
    async with database.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.intake is None and case.consent_at is None


async def test_a_patient_with_an_open_case_is_not_asked_again(database: Database) -> None:
    patient_id, _, sender = await make_patient(database)
    async with database.session() as session:
        case, _ = await cases.open_case(session, patient_id, CaseTrigger.REQUEST_HUMAN, "en")
        conversation = (await session.execute(select(Conversation))).scalar_one()
        conversation.mode = ConversationMode.BOT  # as after "return to bot"
    messages, events = await run(handoff_actions.ActionHandoffRequest(), tracker(sender))
    assert messages[0]["custom"]["handoff"] == "case_opened" and messages[0]["custom"]["case_number"] == case.number
    assert slot_events(events) == {"handoff_pending": False}
    async with database.session() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert conversation.mode is ConversationMode.HUMAN
    assert await count(database, Case) == 1


async def test_emergency_opens_an_urgent_case_without_intake_and_closes_the_form(database: Database) -> None:
    patient_id, _, sender = await make_patient(database, language="ar")
    messages, events = await run(handoff_actions.ActionHandoffEmergency(),
                                 tracker(sender, "emergency", "ar", slots=dict(ANSWERS)))
    async with database.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        patient = await session.get(Patient, patient_id)
    assert case.priority is CasePriority.URGENT and case.trigger is CaseTrigger.EMERGENCY
    assert case.intake is None and patient is not None and patient.consent_given_at is None
    assert len(messages) == 1 and case.number in messages[0]["text"] and "منسق" in messages[0]["text"]
    assert messages[0]["custom"]["handoff"] == "case_opened"
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert slot_events(events)["intake_treatment"] is None


async def test_status_reports_stage_and_reply_state(database: Database) -> None:
    patient_id, _, sender = await make_patient(database, language="ja")
    messages, _ = await run(handoff_actions.ActionHandoffStatus(), tracker(sender, "ask_status", "ja"))
    assert messages[0]["custom"] == {"intent": "ask_status", "handoff": "status"}
    async with database.session() as session:
        case, _ = await cases.open_case(session, patient_id, CaseTrigger.REQUEST_HUMAN, "ja")
        await cases.set_stage(session, case.id, CaseStage.VISA_LETTER, None)  # type: ignore[arg-type]
    messages, _ = await run(handoff_actions.ActionHandoffStatus(), tracker(sender, "status", "ja"))
    custom = messages[0]["custom"]
    assert custom["case_number"] == case.number and custom["stage"] == "visa_letter"
    assert custom["coordinator_replied"] is False
    assert "ビザ招へい状" in messages[0]["text"] and "まだありません" in messages[0]["text"]


async def test_intake_validation_turns_skip_words_into_skipped(database: Database) -> None:
    form = handoff_actions.ValidateHandoffIntakeForm()
    dispatcher, track = CollectingDispatcher(), tracker("x")
    for word in ("skip", "/skip", "跳过", "Пропустить", "スキップ", "건너뛰기", "تخطي"):
        assert await form.validate_intake_place(word, dispatcher, track, {}) == {"intake_place": SKIPPED}
    answer = await form.validate_intake_name("  Anna  ", dispatcher, track, {})
    assert answer == {"intake_name": "Anna"}
    # A cleared slot is not a skipped answer: the form must still ask the question.
    assert await form.validate_intake_contact(None, dispatcher, track, {}) == {"intake_contact": None}


async def test_unknown_sender_gets_an_apology_and_nothing_is_stored(database: Database) -> None:
    messages, _ = await run(handoff_actions.ActionHandoffRequest(), tracker("nobody"))
    assert messages[0]["custom"]["handoff"] == "unavailable"
    assert await count(database, Case) == 0
