"""Flood protection: a polite reply past the limit, the message kept, and the emergency reply never dropped."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.core.conversation import ConversationService
from bot.core.events import InProcessEventBus
from bot.core.locks import InProcessKeyedLock
from bot.core.messages import InboundMessage
from bot.core.ratelimit import InProcessRateLimiter, RedisRateLimiter
from bot.storage.database import Database
from bot.storage.models import Direction, Message
from tests.conftest import REDIS_TEST_URL, ScriptedEngine


async def test_messages_past_the_limit_get_a_slow_down_reply_but_emergencies_go_through(
    database: Database, engine: ScriptedEngine
) -> None:
    service = ConversationService(
        database, engine, InProcessEventBus(), InProcessKeyedLock(), ("en", "ru"), "en", InProcessRateLimiter(3)
    )
    replies = [await service.handle(InboundMessage("rest", "flood", f"question number {i}")) for i in range(5)]
    assert [bool(r.replies[0].custom.get("rate_limited")) for r in replies] == [False, False, False, True, True]
    assert len(engine.calls) == 3
    urgent = await service.handle(InboundMessage("rest", "flood", "my wife can't breathe"))
    assert engine.calls[-1][1] == "/emergency"
    assert not urgent.replies[0].custom.get("rate_limited")
    async with database.session() as session:
        kept = (await session.execute(
            select(func.count()).select_from(Message).where(Message.direction == Direction.INBOUND)
        )).scalar_one()
    assert kept == 6


async def test_other_patients_are_not_limited_by_a_flood() -> None:
    limiter = InProcessRateLimiter(2)
    assert [await limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert await limiter.allow("b")


async def test_redis_limit_is_shared_between_workers() -> None:
    key = f"patient-{uuid.uuid4().hex}"
    first, second = Redis.from_url(REDIS_TEST_URL), Redis.from_url(REDIS_TEST_URL)
    try:
        worker_a, worker_b = RedisRateLimiter(first, 3), RedisRateLimiter(second, 3)
        allowed = [await worker_a.allow(key), await worker_b.allow(key), await worker_a.allow(key),
                   await worker_b.allow(key)]
        assert allowed == [True, True, True, False]
    finally:
        await first.aclose()
        await second.aclose()
