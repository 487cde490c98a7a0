"""Redis event bus and ticket lock against the real Redis at 127.0.0.1:6379 (fails when Redis is down)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.core.redis_backends import RedisEventBus, RedisKeyedLock
from tests.conftest import REDIS_TEST_URL


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_TEST_URL)
    await client.ping()
    yield client
    await client.aclose()


async def test_events_reach_a_subscriber_on_another_connection(redis: Redis) -> None:
    topic = f"t-{uuid.uuid4().hex}"
    publisher = RedisEventBus(Redis.from_url(REDIS_TEST_URL))
    subscriber = RedisEventBus(redis)
    received: list[dict[str, Any]] = []
    async with subscriber.subscribe(topic) as stream:
        await publisher.publish(topic, {"type": "message", "text": "привет"})
        async for event in stream:
            received.append(event)
            break
    assert received == [{"type": "message", "text": "привет"}]


async def test_ticket_lock_serves_waiters_in_arrival_order_across_clients(redis: Redis) -> None:
    key = f"k-{uuid.uuid4().hex}"
    clients = [Redis.from_url(REDIS_TEST_URL) for _ in range(3)]  # three "workers"
    for client in clients:
        await client.ping()  # connected before the race, so arrival order is the order of the calls
    locks = [RedisKeyedLock(client) for client in clients]
    order: list[int] = []
    inside = 0

    async def turn(index: int) -> None:
        nonlocal inside
        async with locks[index % 3].hold(key):
            inside += 1
            assert inside == 1
            await asyncio.sleep(0.01)
            order.append(index)
            inside -= 1

    tasks = []
    for index in range(10):
        tasks.append(asyncio.create_task(turn(index)))
        await asyncio.sleep(0.02)  # arrival order
    await asyncio.gather(*tasks)
    assert order == list(range(10))


async def test_a_dead_holder_does_not_block_the_key_forever(redis: Redis) -> None:
    key = f"k-{uuid.uuid4().hex}"
    # Simulate a worker that took ticket 1 and died before releasing (no heartbeat).
    await redis.set(f"mc:lock:{key}:tickets", 1)
    await redis.set(f"mc:lock:{key}:serving", 0)
    lock = RedisKeyedLock(redis, ttl_seconds=0.5)
    async with asyncio.timeout(5):
        async with lock.hold(key):
            pass
    assert int(await redis.get(f"mc:lock:{key}:serving") or 0) == 2


async def test_a_slow_but_alive_waiter_keeps_its_place(redis: Redis) -> None:
    key = f"k-{uuid.uuid4().hex}"
    # Ticket 1 belongs to a worker whose event loop is stalled: alive, but not entering yet.
    await redis.set(f"mc:lock:{key}:tickets", 1)
    await redis.set(f"mc:lock:{key}:serving", 0)
    await redis.set(f"mc:lock:{key}:alive:1", 1, px=5000)
    lock = RedisKeyedLock(redis, ttl_seconds=0.5)
    entered = asyncio.Event()

    async def second() -> None:
        async with lock.hold(key):
            entered.set()

    task = asyncio.create_task(second())
    await asyncio.sleep(1.5)  # three grace periods
    assert not entered.is_set()
    assert int(await redis.get(f"mc:lock:{key}:serving") or 0) == 0
    await redis.delete(f"mc:lock:{key}:alive:1")  # the stalled worker died after all
    async with asyncio.timeout(5):
        await task
    assert entered.is_set()


async def test_different_keys_do_not_wait_for_each_other(redis: Redis) -> None:
    lock = RedisKeyedLock(redis)
    async with lock.hold(f"a-{uuid.uuid4().hex}"):
        async with asyncio.timeout(1):
            async with lock.hold(f"b-{uuid.uuid4().hex}"):
                pass


async def test_erasure_removes_only_the_patients_keys(redis: Redis) -> None:
    from bot.core.redis_backends import erase_patient_keys

    who = uuid.uuid4().hex
    patient_id = int(uuid.uuid4().int % 10**9)
    mine = [f"mc:lock:telegram:{who}:serving", f"mc:rate:telegram:{patient_id}:123", f"mc:telegram:options:{who}"]
    other = f"mc:lock:telegram:other-{who}:serving"
    for key in [*mine, other]:
        await redis.set(key, 1, ex=60)
    deleted = await erase_patient_keys(redis, "telegram", who, patient_id)
    assert await redis.exists(other) == 1
    assert [await redis.exists(key) for key in mine] == [0, 0, 0]
    assert deleted == 3
    await redis.delete(other, *mine)
