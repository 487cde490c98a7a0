"""Redis-backed event bus and keyed lock, for several workers behind one address (production)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

CHANNEL_PREFIX = "mc:events:"
LOCK_PREFIX = "mc:lock:"
IDLE_EXPIRY_MS = 3_600_000
# Take the next ticket; both counters live as long as the key is in use.
_TAKE = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ticket - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ticket
"""
# Move "now serving" from an expected value to the next one (release, or skipping a dead holder).
_ADVANCE = """
if tonumber(redis.call('GET', KEYS[1]) or '-1') == tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], tonumber(ARGV[1]) + 1, 'PX', ARGV[2])
  return 1
end
return 0
"""


class RedisEventBus:
    """Pub/sub over Redis: an event published by any worker reaches subscribers on every worker."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(CHANNEL_PREFIX + topic, json.dumps(event, ensure_ascii=False, default=str))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL_PREFIX + topic)
        try:
            yield self._events(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _events(pubsub: Any) -> AsyncIterator[dict[str, Any]]:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            data = message["data"]
            yield json.loads(data.decode() if isinstance(data, bytes) else data)


class RedisKeyedLock:
    """A fair (FIFO) per-key lock shared by every worker: a ticket lock in Redis.

    Each turn takes a ticket and waits until "now serving" reaches it, so one patient's messages are
    answered in arrival order whichever worker received them. The holder refreshes a heartbeat; when a
    holder dies (no heartbeat), the next waiter skips its ticket, so a crash never blocks a patient.
    """

    def __init__(self, redis: Redis, ttl_seconds: float = 30.0, poll_seconds: float = 0.01) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_seconds * 1000)
        self._poll = poll_seconds
        self._take = redis.register_script(_TAKE)
        self._advance = redis.register_script(_ADVANCE)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        tickets, serving, heartbeat = (f"{LOCK_PREFIX}{key}:{part}" for part in ("tickets", "serving", "hb"))
        ticket = int(await self._take(keys=[tickets, serving], args=[IDLE_EXPIRY_MS]))
        while True:
            current = int(await self._redis.get(serving) or ticket - 1)
            if current >= ticket - 1:
                break
            if not await self._redis.exists(heartbeat) and await self._stalled(serving, heartbeat, current):
                await self._advance(keys=[serving], args=[current, IDLE_EXPIRY_MS])
            await asyncio.sleep(self._poll)
        await self._redis.set(heartbeat, ticket, px=self._ttl_ms)
        beating = asyncio.create_task(self._beat(heartbeat, ticket))
        try:
            yield
        finally:
            beating.cancel()
            await self._redis.delete(heartbeat)
            await self._advance(keys=[serving], args=[ticket - 1, IDLE_EXPIRY_MS])

    async def _stalled(self, serving: str, heartbeat: str, seen: int) -> bool:
        """True when nobody holds the lock for ``seen + 1`` even after a grace period."""
        await asyncio.sleep(min(1.0, self._ttl_ms / 1000))
        return int(await self._redis.get(serving) or -1) == seen and not await self._redis.exists(heartbeat)

    async def _beat(self, heartbeat: str, ticket: int) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            await self._redis.set(heartbeat, ticket, px=self._ttl_ms)


async def erase_patient_keys(redis: Redis, channel: str, external_id: str, patient_id: int) -> int:
    """Delete every Redis key that names this patient (locks, rate-limit windows, channel state)."""
    patterns = (
        f"{LOCK_PREFIX}{channel}:{external_id}:*",
        f"mc:rate:{channel}:{patient_id}:*",
        f"mc:{channel}:*:{external_id}",
        f"mc:{channel}:*:{external_id}:*",
    )
    deleted = 0
    for pattern in patterns:
        async for key in redis.scan_iter(match=pattern, count=500):
            deleted += int(await redis.delete(key))
    return deleted
