"""The handoff through the real stack (REST channel → app → Rasa → action server → database)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.events import InProcessEventBus
from bot.core.outbox import OutboxDispatcher
from bot.handoff import patient_replies
from bot.handoff.models import Case, CasePriority, CaseTrigger, Coordinator
from bot.storage.database import Database
from bot.storage.models import Conversation, ConversationMode, Patient
from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e
NUMBER = re.compile(r"MC-\d{4}-\d{6}")
INTAKE_ANSWERS = ["Anna", "Kazakhstan", "knee replacement", "skip", "in March", "anna@example.org"]


@pytest.fixture
async def app_db(live_stack: RunningStack) -> AsyncIterator[Database]:
    database = Database(live_stack.settings.database_url)
    yield database
    await database.dispose()


def handoff_markers(replies: list[dict[str, Any]]) -> list[str]:
    return [r["custom"]["handoff"] for r in replies if "handoff" in (r.get("custom") or {})]


def run_intake(stack: RunningStack, sender: str, request: str, answers: list[str]) -> list[dict[str, Any]]:
    """Ask for a human, agree, answer the intake; return the replies to the last answer."""
    asked = stack.say(sender, request)
    assert handoff_markers(asked) == ["consent_requested"], asked
    assert [b["payload"] for b in asked[-1]["buttons"]] == ["/affirm", "/deny"]
    questions = stack.say(sender, "/affirm")
    assert handoff_markers(questions) == ["intake", "intake"], questions
    assert questions[-1]["custom"]["field"] == "name"
    replies = questions
    for answer in answers:
        replies = stack.say(sender, answer)
    return replies


async def case_of(database: Database, sender: str) -> tuple[Case | None, Patient, Conversation]:
    async with database.session() as session:
        patient = (await session.execute(select(Patient).where(Patient.external_id == sender))).scalar_one()
        conversation = (await session.execute(
            select(Conversation).where(Conversation.patient_id == patient.id)
        )).scalar_one()
        case = (await session.execute(select(Case).where(Case.patient_id == patient.id))).scalar_one_or_none()
        return case, patient, conversation


async def test_english_request_consent_intake_case_then_silence_but_emergency(
    live_stack: RunningStack, app_db: Database
) -> None:
    sender = "e2e-handoff-en"
    opened = run_intake(live_stack, sender, "I want to talk to a person", INTAKE_ANSWERS)
    assert handoff_markers(opened) == ["case_opened"], opened
    number = opened[0]["custom"]["case_number"]
    assert NUMBER.fullmatch(number) and number in opened[0]["text"]

    case, patient, conversation = await case_of(app_db, sender)
    assert case is not None and case.number == number
    assert case.intake == {"name": "Anna", "country": "Kazakhstan", "treatment": "knee replacement",
                           "preferred_place": None, "travel_window": "in March", "contact": "anna@example.org"}
    assert patient.consent_given_at is not None
    assert conversation.mode is ConversationMode.HUMAN

    assert live_stack.say(sender, "Which documents should I bring?") == []
    emergency = live_stack.say(sender, "I have chest pain")
    assert emergency and emergency[0]["custom"].get("emergency") is True
    assert "120" in emergency[0]["text"]


async def test_chinese_request_with_the_payload_and_in_words(live_stack: RunningStack, app_db: Database) -> None:
    for sender, request in (("e2e-handoff-zh-payload", "/request_human"), ("e2e-handoff-zh", "转人工")):
        first = live_stack.say(sender, "你好，我想咨询去中国看病")
        assert first
        answers = ["王芳", "新加坡", "心脏检查", "跳过", "下个月", "微信 wangfang"]
        opened = run_intake(live_stack, sender, request, answers)
        assert handoff_markers(opened) == ["case_opened"], opened
        assert "案例编号" in opened[0]["text"]
        case, _, _ = await case_of(app_db, sender)
        assert case is not None and case.language == "zh"
        assert case.intake is not None and case.intake["preferred_place"] is None
        assert case.intake["treatment"] == "心脏检查"


async def test_declining_keeps_the_bot_and_stores_nothing(live_stack: RunningStack, app_db: Database) -> None:
    sender = "e2e-handoff-decline"
    asked = live_stack.say(sender, "/request_human")
    assert handoff_markers(asked) == ["consent_requested"]
    declined = live_stack.say(sender, "/deny")
    assert handoff_markers(declined) == ["declined"]
    case, patient, conversation = await case_of(app_db, sender)
    assert case is None and patient.consent_given_at is None
    assert conversation.mode is ConversationMode.BOT
    # A later "yes" is not read as consent.
    assert "case_opened" not in handoff_markers(live_stack.say(sender, "/affirm"))
    assert live_stack.say(sender, "hello")  # general answers go on
    case, _, _ = await case_of(app_db, sender)
    assert case is None


async def test_an_emergency_interrupts_the_intake(live_stack: RunningStack, app_db: Database) -> None:
    sender = "e2e-handoff-emergency"
    live_stack.say(sender, "/request_human")
    live_stack.say(sender, "/affirm")
    live_stack.say(sender, "Boris")
    replies = live_stack.say(sender, "I have chest pain")
    assert replies[0]["custom"].get("emergency") is True
    assert handoff_markers(replies) == ["case_opened"], replies
    case, _, conversation = await case_of(app_db, sender)
    assert case is not None and case.priority is CasePriority.URGENT and case.trigger is CaseTrigger.EMERGENCY
    assert case.intake is None
    assert conversation.mode is ConversationMode.HUMAN
    assert live_stack.say(sender, "Kazakhstan") == []  # the form is gone and a human owns the conversation


async def test_status_after_a_coordinator_replied_and_returned_the_conversation(
    live_stack: RunningStack, app_db: Database
) -> None:
    sender = "e2e-handoff-status"
    assert "no case" in live_stack.say(sender, "/status")[0]["text"]
    opened = run_intake(live_stack, sender, "/request_human", ["skip"] * 6)
    number = opened[0]["custom"]["case_number"]
    case, _, _ = await case_of(app_db, sender)
    assert case is not None
    async with app_db.session() as session:
        coordinator = Coordinator(email="e2e-status@example.org", display_name="E2E", password_hash="x")
        session.add(coordinator)
        await session.flush()
        coordinator_id = coordinator.id
    events, outbox = InProcessEventBus(), OutboxDispatcher(app_db, {})
    await patient_replies.record_coordinator_reply(app_db, events, outbox, case.id, coordinator_id, "Hello, I am Li.")
    await patient_replies.return_to_bot(app_db, events, outbox, case.id, coordinator_id)
    status = live_stack.say(sender, "/status")
    assert status[0]["custom"]["case_number"] == number
    assert status[0]["custom"]["coordinator_replied"] is True
    assert "Stage: intake" in status[0]["text"] and "A coordinator has replied" in status[0]["text"]
    worded = live_stack.say(sender, "what is the status of my case?")
    assert worded[0]["custom"].get("handoff") == "status"


async def test_two_misses_offer_a_coordinator(live_stack: RunningStack, app_db: Database) -> None:
    sender = "e2e-handoff-fallback"
    live_stack.say(sender, "tell me a joke")
    offered = live_stack.say(sender, "what is the weather tomorrow")
    assert "consent_requested" in handoff_markers(offered), offered
    agreed = live_stack.say(sender, "/affirm")
    assert handoff_markers(agreed) == ["intake", "intake"], agreed
    for answer in ["skip"] * 6:
        opened = live_stack.say(sender, answer)
    assert handoff_markers(opened) == ["case_opened"], opened
    case, _, _ = await case_of(app_db, sender)
    assert case is not None and case.trigger is CaseTrigger.FALLBACK
    assert case.intake == dict.fromkeys(("name", "country", "treatment", "preferred_place", "travel_window",
                                         "contact"))
