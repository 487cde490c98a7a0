"""The conversation service: record, ask the engine (unless a human owns the conversation), record replies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.conversation import CONSOLE_TOPIC, ConversationService
from bot.core.events import InProcessEventBus
from bot.core.locks import InProcessKeyedLock
from bot.core.messages import InboundMessage, OutboundMessage
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, ConversationMode, Direction, Message, Patient
from tests.conftest import ScriptedEngine

LANGUAGES = ("en", "zh", "ru", "ar", "ko", "ja")


@pytest.fixture
def events() -> InProcessEventBus:
    return InProcessEventBus()


@pytest.fixture
def service(database: Database, engine: ScriptedEngine, events: InProcessEventBus) -> ConversationService:
    return ConversationService(database, engine, events, InProcessKeyedLock(), LANGUAGES, "en")


async def _count(database: Database, *where: Any) -> int:
    async with database.session() as session:
        return (await session.execute(select(func.count()).select_from(Message).where(*where))).scalar_one()


async def test_a_turn_stores_the_message_and_the_reply(service: ConversationService, database: Database) -> None:
    result = await service.handle(InboundMessage("rest", "p1", "Which visa do I need?"))
    assert [r.text for r in result.replies] == ["echo: Which visa do I need?"]
    assert result.language == "en"
    assert await _count(database, Message.direction == Direction.INBOUND) == 1
    assert await _count(database, Message.author == Author.BOT) == 1


async def test_redelivery_three_times_gives_one_stored_message_and_one_reply(
    service: ConversationService, engine: ScriptedEngine, database: Database
) -> None:
    inbound = InboundMessage("rest", "p1", "hello", external_message_id="dup-1")
    results = [await service.handle(inbound) for _ in range(3)]
    assert len(engine.calls) == 1
    assert [r.duplicate for r in results] == [False, True, True]
    assert all(r.replies[0].text == "echo: hello" for r in results)
    assert await _count(database, Message.direction == Direction.INBOUND) == 1
    assert await _count(database, Message.direction == Direction.OUTBOUND) == 1


async def test_concurrent_redeliveries_are_answered_once(service: ConversationService, engine: ScriptedEngine) -> None:
    inbound = InboundMessage("rest", "p1", "hello", external_message_id="dup-2")
    await asyncio.gather(*(service.handle(inbound) for _ in range(3)))
    assert len(engine.calls) == 1


async def test_language_is_detected_remembered_and_sent_to_the_engine(
    service: ConversationService, engine: ScriptedEngine, database: Database
) -> None:
    await service.handle(InboundMessage("rest", "p1", "Какая виза нужна для лечения?"))
    await service.handle(InboundMessage("rest", "p1", "да"))  # too short to switch
    assert [call[2]["language"] for call in engine.calls] == ["ru", "ru"]
    async with database.session() as session:
        patient = (await session.execute(select(Patient))).scalar_one()
    assert patient.language == "ru"


async def test_human_owned_conversation_gets_no_bot_reply_but_emergencies_still_answered(
    service: ConversationService, engine: ScriptedEngine, database: Database
) -> None:
    first = await service.handle(InboundMessage("rest", "p1", "hello"))
    async with database.session() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        conversation.mode = ConversationMode.HUMAN
    silent = await service.handle(InboundMessage("rest", "p1", "when will you call me?"))
    assert silent.replies == []
    assert len(engine.calls) == 1
    status = await service.handle(InboundMessage("rest", "p1", "what is the status of my case?"))
    assert engine.calls[-1][1] == "/ask_status" and status.replies
    command = await service.handle(InboundMessage("rest", "p1", "/status"))
    assert engine.calls[-1][1] == "/ask_status" and command.replies
    assert len(engine.calls) == 3
    urgent = await service.handle(InboundMessage("rest", "p1", "My husband has chest pain"))
    assert engine.calls[-1][1] == "/emergency"
    assert urgent.replies and first.conversation_id == urgent.conversation_id


async def test_engine_outage_apologises_keeps_the_message_and_answers_the_retry(
    service: ConversationService, engine: ScriptedEngine, database: Database
) -> None:
    engine.down = True
    inbound = InboundMessage("rest", "p1", "Здравствуйте, какая виза?", external_message_id="m-outage")
    apology = await service.handle(inbound)
    assert apology.replies[0].custom == {"error": "engine_unavailable"}
    assert "сохранено" in (apology.replies[0].text or "")
    async with database.session() as session:
        message = (await session.execute(select(Message).where(Message.external_message_id == "m-outage"))).scalar_one()
        assert message.handled_at is None
    engine.down = False
    retried = await service.handle(inbound)
    assert retried.duplicate is False
    assert retried.replies[0].text == "echo: Здравствуйте, какая виза?"
    assert await _count(database, Message.direction == Direction.INBOUND) == 1


async def test_every_message_is_published_to_the_console(
    service: ConversationService, events: InProcessEventBus
) -> None:
    seen: list[dict[str, Any]] = []

    async def listen() -> None:
        async with events.subscribe(CONSOLE_TOPIC) as stream:
            async for event in stream:
                seen.append(event)
                if len(seen) == 2:
                    return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await service.handle(InboundMessage("rest", "p1", "hello"))
    await asyncio.wait_for(listener, 2)
    assert [e["author"] for e in seen] == ["patient", "bot"]


async def test_messages_of_one_patient_are_answered_in_order(database: Database, events: InProcessEventBus) -> None:
    async def slow_first(sender: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        return [OutboundMessage(text=text)]

    order: list[str] = []

    class RecordingEngine(ScriptedEngine):
        async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
            if text == "m0":
                await asyncio.sleep(0.05)
            order.append(text)
            return await slow_first(sender_id, text, metadata)

    service = ConversationService(database, RecordingEngine(), events, InProcessKeyedLock(), LANGUAGES, "en")
    tasks = []
    for i in range(10):
        tasks.append(asyncio.create_task(service.handle(InboundMessage("rest", "p1", f"m{i}"))))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [f"m{i}" for i in range(10)]
