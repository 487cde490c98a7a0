"""The persistent outbox: delivered once by concurrent dispatchers, retried on transient errors."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from bot.channels.base import RecipientUnreachable, TransientDeliveryError
from bot.core.events import InProcessEventBus
from bot.core.messages import InboundMessage, OutboundMessage
from bot.core.outbox import OutboxDispatcher
from bot.core.replies import send_to_patient
from bot.storage.conversations import record_inbound
from bot.storage.database import Database
from bot.storage.models import OutboxItem, OutboxStatus, Patient


class CountingChannel:
    """A fake channel that counts deliveries and can fail on demand."""

    name = "fake"

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.fail_next: list[Exception] = []

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        await asyncio.sleep(0.005)
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.delivered[message.text or ""] += 1


async def _conversation(database: Database) -> int:
    async with database.session() as session:
        stored = await record_inbound(session, InboundMessage("fake", "patient-1", "hello"))
        return stored.conversation.id


async def test_two_dispatchers_on_postgresql_deliver_each_reply_exactly_once(postgres_url: str) -> None:
    from tests.conftest import _truncate_all

    _truncate_all(postgres_url)
    database = Database(postgres_url)
    channel = CountingChannel()
    dispatchers = [OutboxDispatcher(database, {"fake": channel}), OutboxDispatcher(Database(postgres_url),
                                                                                   {"fake": channel})]
    conversation_id = await _conversation(database)
    for i in range(30):
        await send_to_patient(database, InProcessEventBus(), dispatchers[0], conversation_id,
                              OutboundMessage(text=f"reply {i}"))
    while sum(channel.delivered.values()) < 30:
        sent = await asyncio.gather(*(d.deliver_due(limit=7) for d in dispatchers))
        assert sum(sent) > 0
    assert channel.delivered == Counter({f"reply {i}": 1 for i in range(30)})
    await database.dispose()


async def test_transient_errors_are_retried_and_unreachable_patients_marked(database: Database) -> None:
    channel = CountingChannel()
    dispatcher = OutboxDispatcher(database, {"fake": channel})
    conversation_id = await _conversation(database)
    channel.fail_next = [TransientDeliveryError("429", retry_after=0)]
    await send_to_patient(database, InProcessEventBus(), dispatcher, conversation_id, OutboundMessage(text="one"))
    assert await dispatcher.deliver_due() == 0
    assert await dispatcher.deliver_due() == 1
    assert channel.delivered == Counter({"one": 1})

    channel.fail_next = [RecipientUnreachable("bot was blocked by the user")]
    await send_to_patient(database, InProcessEventBus(), dispatcher, conversation_id, OutboundMessage(text="two"))
    assert await dispatcher.deliver_due() == 0
    async with database.session() as session:
        patient = (await session.execute(select(Patient))).scalar_one()
        statuses = [i.status for i in (await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars()]
    assert patient.unreachable_reason == "bot was blocked by the user"
    assert statuses == [OutboxStatus.SENT, OutboxStatus.FAILED]


async def test_pending_replies_survive_a_restart(database_url: str) -> None:
    first = Database(database_url)
    channel = CountingChannel()
    conversation_id = await _conversation(first)
    await send_to_patient(first, InProcessEventBus(), OutboxDispatcher(first, {}), conversation_id,
                          OutboundMessage(text="queued before the crash"))
    await first.dispose()  # the process "dies" before delivering
    restarted = Database(database_url)
    dispatcher = OutboxDispatcher(restarted, {"fake": channel})
    assert await dispatcher.deliver_due() == 1
    assert await dispatcher.deliver_due() == 0
    assert channel.delivered == Counter({"queued before the crash": 1})
    await restarted.dispose()


class SlowChannel:
    """A channel whose sends take a while; records (patient, text) in the order sends finished."""

    name = "fake"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.finished: list[tuple[str, str]] = []

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        await asyncio.sleep(self.seconds)
        self.finished.append((external_user_id, message.text or ""))


async def test_patients_are_served_side_by_side_and_each_in_order(database: Database) -> None:
    channel = SlowChannel(0.05)
    dispatcher = OutboxDispatcher(database, {"fake": channel})
    conversations = {}
    for name in ("anna", "bilal", "chen"):
        async with database.session() as session:
            stored = await record_inbound(session, InboundMessage("fake", name, "hello"))
            conversations[name] = stored.conversation.id
    for n in range(4):
        await send_to_patient(database, InProcessEventBus(), dispatcher, conversations["anna"],
                              OutboundMessage(text=f"anna {n}"))
    for name in ("bilal", "chen"):
        await send_to_patient(database, InProcessEventBus(), dispatcher, conversations[name],
                              OutboundMessage(text=f"{name} 0"))
    started = asyncio.get_running_loop().time()
    assert await dispatcher.deliver_due() == 6
    elapsed = asyncio.get_running_loop().time() - started
    assert [text for who, text in channel.finished if who == "anna"] == [f"anna {n}" for n in range(4)]
    # Bilal and Chen did not wait behind Anna's four messages: the pass took about four sends, not six.
    assert channel.finished.index(("bilal", "bilal 0")) < channel.finished.index(("anna", "anna 1"))
    assert elapsed < 5.5 * channel.seconds
