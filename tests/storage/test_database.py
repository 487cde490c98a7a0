"""Engine set-up: SQLite writers queue in a small pool rather than in SQLite's sleeping busy handler,
and a wait past the pool's timeout is an outage the webhooks answer with 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, text

from bot.storage import database as database_module
from bot.storage.database import SQLITE_POOL_SIZE, STORAGE_UNAVAILABLE, Database


async def test_concurrent_sqlite_sessions_share_a_few_connections_and_all_commit(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'pool.db'}")
    async with database.session() as session:
        await session.execute(text("CREATE TABLE notes (n INTEGER)"))
    checked_out, most = 0, 0

    def checkout(*_args: object) -> None:
        nonlocal checked_out, most
        checked_out += 1
        most = max(most, checked_out)

    def checkin(*_args: object) -> None:
        nonlocal checked_out
        checked_out -= 1

    event.listen(database.engine.sync_engine.pool, "checkout", checkout)
    event.listen(database.engine.sync_engine.pool, "checkin", checkin)

    async def write(n: int) -> None:
        async with database.session() as session:
            await session.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.01)  # a transaction that awaits something while it holds the write lock

    await asyncio.gather(*(write(n) for n in range(20)))
    async with database.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 20
    assert 1 < most <= SQLITE_POOL_SIZE
    await database.dispose()


async def test_a_session_waiting_past_the_pool_timeout_is_a_storage_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_POOL_TIMEOUT_SECONDS", 0.2)
    database = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    held = [await database.engine.connect() for _ in range(SQLITE_POOL_SIZE)]
    for connection in held:
        await connection.execute(text("SELECT 1"))
    with pytest.raises(STORAGE_UNAVAILABLE):
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
    for connection in held:
        await connection.close()
    async with database.session() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    await database.dispose()
