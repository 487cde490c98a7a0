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
    store, other_worker = DatabaseStateStore(database), DatabaseStateStore(database)
    try:
        await _exercise(store, "db:")
        # Two workers' stores (each its own connections and thread) race for the same keys.
        for n in range(5):
            claims = await asyncio.gather(*(s.add(f"db:claim{n}", 1, 60) for s in (store, other_worker) * 3))
            assert claims.count(True) == 1, claims
        assert await store.add("db:gone", 1, 0.1)
        await asyncio.sleep(1.1)
        assert await store.purge() >= 1
    finally:
        await store.aclose()
        await other_worker.aclose()


async def test_redis_state_store() -> None:
    store = RedisStateStore(REDIS_TEST_URL)
    try:
        await _exercise(store, f"test:{time.time_ns()}:")
    finally:
        await store.aclose()


async def test_on_sqlite_state_commits_skip_the_fsync_the_application_keeps_and_survive_a_restart(
    sqlite_url: str,
) -> None:
    database = Database(sqlite_url)
    store = DatabaseStateStore(database)
    try:
        assert await store.add("nonce:1:a", 1, 60)
        store_level = await store._run(lambda c: c.exec_driver_sql("PRAGMA synchronous").scalar())
        async with database.engine.connect() as connection:
            app_level = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar()
    finally:
        await store.aclose()
    assert (store_level, app_level) == (1, 2)  # NORMAL for these keys, FULL for the application's data
    restarted = DatabaseStateStore(database)
    try:
        assert not await restarted.add("nonce:1:a", 1, 60)  # a replay after a restart is still refused
    finally:
        await restarted.aclose()
        await database.dispose()
