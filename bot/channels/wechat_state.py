"""Shared short-lived state of the WeChat channel: Redis in production, the database otherwise.

The web handler needs four things shared by every worker: "has this nonce been seen"
(insert-if-absent with a TTL), the numbered options last offered to a patient, the answer decision
per WeChat message (passive reply or customer-service API) and a periodic purge of expired rows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.channels.wechat_models import WeChatState
from bot.storage.database import Database
from bot.storage.models import utcnow

KEY_PREFIX = "mc:wechat:"


class StateStore(Protocol):
    """Keys with JSON values and a time to live, shared between workers."""

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        """Store ``value`` only if ``key`` is absent (or expired); True when this call stored it."""
        ...

    async def get(self, key: str) -> Any | None: ...

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def purge(self) -> int:
        """Drop expired entries (a no-op where the store expires keys itself)."""
        ...

    async def aclose(self) -> None: ...


class RedisStateStore:
    """``SET NX EX`` and friends on Redis (keys expire by themselves)."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        stored = await self._redis.set(KEY_PREFIX + key, json.dumps(value), nx=True, px=_millis(ttl_seconds))
        return bool(stored)

    async def get(self, key: str) -> Any | None:
        raw = await self._redis.get(KEY_PREFIX + key)
        return None if raw is None else json.loads(raw)

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._redis.set(KEY_PREFIX + key, json.dumps(value), px=_millis(ttl_seconds))

    async def delete(self, key: str) -> None:
        await self._redis.delete(KEY_PREFIX + key)

    async def purge(self) -> int:
        return 0

    async def aclose(self) -> None:
        await self._redis.aclose()


class DatabaseStateStore:
    """The ``wechat_state`` table (migration 0005): one upsert per write, race-safe on the primary key.

    A WeChat message writes here several times (nonce, answer decision, options), so each write is
    one statement: on SQLite every extra statement inside a write transaction keeps the other
    writers waiting longer.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = database.engine.dialect.name
        self._insert = postgresql_insert if dialect == "postgresql" else sqlite_insert

    def _upsert(self, key: str, value: Any, ttl_seconds: float, *, only_if_expired: bool) -> Any:
        """INSERT … ON CONFLICT (key) DO UPDATE, only over an expired row when ``only_if_expired``."""
        now = utcnow()
        table = cast(Table, WeChatState.__table__)
        statement = self._insert(table).values(
            key=key, value=value, expires_at=now + timedelta(seconds=ttl_seconds), created_at=now
        )
        replacement = {"value": statement.excluded.value, "expires_at": statement.excluded.expires_at,
                       "created_at": statement.excluded.created_at}
        # An expired row counts as absent: ``add`` may replace it, a live one stays.
        where = table.c.expires_at <= now if only_if_expired else None
        return statement.on_conflict_do_update(index_elements=[table.c.key], set_=replacement, where=where)

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        async with self._db.session() as session:
            # RETURNING tells whether a row was written (rowcount is -1 here on PostgreSQL).
            written = await session.execute(self._upsert(key, value, ttl_seconds, only_if_expired=True)
                                            .returning(WeChatState.key))
            return written.first() is not None

    async def get(self, key: str) -> Any | None:
        # Compared in SQL: SQLite hands datetimes back without their time zone.
        query = select(WeChatState.value).where(
            WeChatState.key == key, or_(WeChatState.expires_at.is_(None), WeChatState.expires_at > utcnow())
        )
        async with self._db.session() as session:
            return (await session.execute(query)).scalar_one_or_none()

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        async with self._db.session() as session:
            await session.execute(self._upsert(key, value, ttl_seconds, only_if_expired=False))

    async def delete(self, key: str) -> None:
        async with self._db.session() as session:
            await session.execute(delete(WeChatState).where(WeChatState.key == key))

    async def purge(self) -> int:
        async with self._db.session() as session:
            result = await session.execute(delete(WeChatState).where(WeChatState.expires_at <= utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

    async def aclose(self) -> None:
        return None


def _millis(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def build_state_store(redis_url: str | None, database: Database) -> StateStore:
    """Redis when configured (production, several workers), else the application database."""
    if redis_url:
        return RedisStateStore(redis_url)
    return DatabaseStateStore(database)
