"""The conversation repository on SQLite and PostgreSQL: one row per delivery, race-safe creation."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from bot.core.messages import InboundMessage
from bot.storage.conversations import record_inbound
from bot.storage.database import Database
from bot.storage.models import Message, Patient


async def test_redelivery_is_recorded_once(database: Database) -> None:
    inbound = InboundMessage(channel="rest", external_user_id="p1", text="hello", external_message_id="m1")
    results = []
    for _ in range(3):
        async with database.session() as session:
            stored = await record_inbound(session, inbound)
            results.append((stored.duplicate, stored.message.id))
    assert [duplicate for duplicate, _ in results] == [False, True, True]
    assert len({message_id for _, message_id in results}) == 1
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    assert count == 1


async def test_same_external_id_on_another_channel_is_a_new_message(database: Database) -> None:
    for channel in ("rest", "telegram"):
        async with database.session() as session:
            stored = await record_inbound(session, InboundMessage(channel, "p1", "hi", external_message_id="42"))
            assert stored.duplicate is False


async def test_concurrent_first_contacts_create_one_patient(database: Database) -> None:
    async def first_contact(index: int) -> None:
        async with database.session() as session:
            await record_inbound(session, InboundMessage("rest", "same-person", f"message {index}"))

    await asyncio.gather(*(first_contact(i) for i in range(5)))
    async with database.session() as session:
        patients = (await session.execute(select(func.count()).select_from(Patient))).scalar_one()
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    assert patients == 1
    assert messages == 5


async def test_a_known_patients_message_takes_one_query_one_insert_one_update(database: Database) -> None:
    """The per-turn cost: patient and conversation in one SELECT, no savepoint without an external id."""
    async with database.session() as session:
        await record_inbound(session, InboundMessage("rest", "p2", "first"))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with database.session() as session:
            stored = await record_inbound(session, InboundMessage("rest", "p2", "second"))
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
    assert stored.duplicate is False and stored.message.id is not None
    assert statements == ["SELECT", "INSERT", "UPDATE"]
