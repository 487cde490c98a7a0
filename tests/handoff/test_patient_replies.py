"""Case actions that talk to the patient, on SQLite and PostgreSQL: a coordinator's reply, back to the bot."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.core.events import InProcessEventBus
from bot.core.outbox import OutboxDispatcher
from bot.handoff import cases, patient_replies
from bot.handoff.models import CaseStatus
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, ConversationMode, Message, OutboxItem
from tests.handoff.helpers import audit_events, make_coordinator, make_patient, open_test_case


async def test_coordinator_reply_reaches_the_outbox_and_marks_first_response(database: Database) -> None:
    patient_id, conversation_id, _ = await make_patient(database)
    coordinator = await make_coordinator(database, "c@example.org")
    case = await open_test_case(database, patient_id)
    events = InProcessEventBus()
    outbox = OutboxDispatcher(database, {})
    async with events.subscribe("console") as stream:
        message = await patient_replies.record_coordinator_reply(
            database, events, outbox, case.id, coordinator, "Hello Anna"
        )
        event = await asyncio.wait_for(anext(stream), 1)
    assert event["message_id"] == message.id and event["author"] == "coordinator"
    async with database.session() as session:
        stored = await cases.get_case(session, case.id)
        assert stored.status is CaseStatus.OPEN
        assert stored.first_response_at is not None
        assert stored.assignee_id == coordinator
        item = (await session.execute(select(OutboxItem))).scalar_one()
        assert item.message_id == message.id
        row = await session.get(Message, message.id)
        assert row is not None and row.conversation_id == conversation_id and row.author is Author.COORDINATOR
    replies = [e for e in await audit_events(database) if e.action == "reply_sent"]
    assert len(replies) == 1 and "Hello" not in str(replies[0].details)
    with pytest.raises(cases.InvalidCaseInput):
        await patient_replies.record_coordinator_reply(database, events, outbox, case.id, coordinator, "   ")


async def test_return_to_bot_tells_the_patient_in_their_language(database: Database) -> None:
    patient_id, conversation_id, _ = await make_patient(database, language="zh")
    coordinator = await make_coordinator(database, "c@example.org")
    case = await open_test_case(database, patient_id)
    events = InProcessEventBus()
    outbox = OutboxDispatcher(database, {})
    message = await patient_replies.return_to_bot(database, events, outbox, case.id, coordinator)
    assert message.custom == {"handoff": "returned_to_bot", "case_number": case.number}
    assert message.text and "助手" in message.text
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.mode is ConversationMode.BOT
        assert (await session.execute(select(OutboxItem))).scalar_one().message_id == message.id
    assert [e.action for e in await audit_events(database)][-1] == "returned_to_bot"
