"""The channel's shared state: insert-if-absent, expiry, on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import time

from bot.channels.wechat_state import DatabaseStateStore, RedisStateStore, StateStore
from bot.storage.database import Database
from tests.conftest import REDIS_TEST_URL


async def _exercise(store: StateStore, prefix: str) -> None:
    assert await store.add(f"{prefix}nonce", 1, 60)
    assert not await store.add(f"{prefix}nonce", 1, 60)
    results = await asyncio.gather(*(store.add(f"{prefix}race", i, 60) for i in range(8)))
    assert results.count(True) == 1
    await store.put(f"{prefix}options", [{"title": "Visa", "payload": "/ask_visa"}], 60)
    assert await store.get(f"{prefix}options") == [{"title": "Visa", "payload": "/ask_visa"}]
    await store.put(f"{prefix}options", {"state": "cs"}, 60)
    assert await store.get(f"{prefix}options") == {"state": "cs"}
    await store.delete(f"{prefix}options")
    assert await store.get(f"{prefix}options") is None
    assert await store.add(f"{prefix}short", 1, 0.2)
    await asyncio.sleep(1.1)
    assert await store.get(f"{prefix}short") is None
    assert await store.add(f"{prefix}short", 2, 60)  # expired: free again
    assert await store.get(f"{prefix}short") == 2


async def test_database_state_store(database: Database) -> None:
    store = DatabaseStateStore(database)
    await _exercise(store, "db:")
    assert await store.add("db:gone", 1, 0.1)
    await asyncio.sleep(1.1)
    assert await store.purge() >= 1


async def test_redis_state_store() -> None:
    store = RedisStateStore(REDIS_TEST_URL)
    try:
        await _exercise(store, f"test:{time.time_ns()}:")
    finally:
        await store.aclose()
