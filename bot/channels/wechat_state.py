"""Shared short-lived state of the WeChat channel: Redis in production, the database otherwise.

The web handler needs four things shared by every worker: "has this nonce been seen"
(insert-if-absent with a TTL), the numbered options last offered to a patient, the answer decision
per WeChat message (passive reply or customer-service API) and a periodic purge of expired rows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

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
    """The ``wechat_state`` table (migration 0005); the primary key makes ``add`` race-safe."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        now = utcnow()
        try:
            async with self._db.session() as session:
                # An expired row counts as absent: remove it in the same transaction.
                await session.execute(
                    delete(WeChatState).where(WeChatState.key == key, WeChatState.expires_at <= now)
                )
                session.add(WeChatState(key=key, value=value, expires_at=now + timedelta(seconds=ttl_seconds)))
                await session.flush()
        except IntegrityError:
            return False
        return True

    async def get(self, key: str) -> Any | None:
        # Compared in SQL: SQLite hands datetimes back without their time zone.
        query = select(WeChatState.value).where(
            WeChatState.key == key, or_(WeChatState.expires_at.is_(None), WeChatState.expires_at > utcnow())
        )
        async with self._db.session() as session:
            return (await session.execute(query)).scalar_one_or_none()

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        expires_at = utcnow() + timedelta(seconds=ttl_seconds)
        for _ in range(3):  # a concurrent insert of the same key: retry as an update
            try:
                async with self._db.session() as session:
                    row = await session.get(WeChatState, key)
                    if row is None:
                        session.add(WeChatState(key=key, value=value, expires_at=expires_at))
                    else:
                        row.value = value
                        row.expires_at = expires_at
                    await session.flush()
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not store wechat state {key!r}")

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
