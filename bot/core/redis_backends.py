"""Redis-backed event bus and keyed lock, for several workers behind one address (production)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

CHANNEL_PREFIX = "mc:events:"
LOCK_PREFIX = "mc:lock:"
IDLE_EXPIRY_MS = 3_600_000
MAX_POLL_SECONDS = 0.05
# Take the next ticket and mark it alive (KEYS[3] is the prefix of the per-ticket liveness keys);
# both counters live as long as the key is in use.
_TAKE = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ticket - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3] .. ticket, 1, 'PX', ARGV[2])
return ticket
"""
# Enter when "now serving" is exactly the previous ticket, setting the heartbeat in the same step so
# that a waiter never sees a holder without one. -1: our ticket was skipped (we were presumed dead).
_ENTER = """
local serving = tonumber(redis.call('GET', KEYS[1]) or '-1')
local previous = tonumber(ARGV[1]) - 1
if serving == previous then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
elseif serving > previous then
  return -1
end
return 0
"""
# Move "now serving" from an expected value to the next one (release, or skipping a dead holder).
_ADVANCE = """
if tonumber(redis.call('GET', KEYS[1]) or '-1') == tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], tonumber(ARGV[1]) + 1, 'PX', ARGV[2])
  return 1
end
return 0
"""


def redis_client(url: str, max_connections: int = 256, wait_seconds: float = 10.0) -> Redis:
    """A client whose pool waits for a free connection under load instead of failing at once."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_seconds)
    return Redis(connection_pool=pool)


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
    answered in arrival order whichever worker received them. The holder keeps a heartbeat and every
    waiter keeps its ticket alive; only a ticket whose owner shows neither for a grace period (its
    process died) is skipped, so a merely slow worker keeps its place. A skipped owner that comes
    back takes a new ticket instead of entering.
    """

    def __init__(self, redis: Redis, ttl_seconds: float = 30.0, poll_seconds: float = 0.01) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_seconds * 1000)
        self._grace = min(5.0, ttl_seconds)
        self._poll = poll_seconds
        self._take = redis.register_script(_TAKE)
        self._enter = redis.register_script(_ENTER)
        self._advance = redis.register_script(_ADVANCE)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        tickets, serving, heartbeat, alive = (
            f"{LOCK_PREFIX}{key}:{part}" for part in ("tickets", "serving", "hb", "alive:")
        )
        ticket = await self._acquire(tickets, serving, heartbeat, alive)
        beating = asyncio.create_task(self._beat(heartbeat, ticket))
        try:
            yield
        finally:
            beating.cancel()
            await self._redis.delete(heartbeat)
            await self._advance(keys=[serving], args=[ticket - 1, IDLE_EXPIRY_MS])

    async def _acquire(self, tickets: str, serving: str, heartbeat: str, alive: str) -> int:
        loop = asyncio.get_running_loop()
        ticket = int(await self._take(keys=[tickets, serving, alive], args=[IDLE_EXPIRY_MS, self._ttl_ms]))
        kept_alive_at = loop.time()
        stalled_since: tuple[int, float] | None = None
        delay = self._poll
        while True:
            entered = int(await self._enter(keys=[serving, heartbeat], args=[ticket, self._ttl_ms]))
            if entered == 1:
                await self._redis.delete(f"{alive}{ticket}")
                return ticket
            if entered == -1:  # skipped as dead while we were stalled: queue again
                ticket = int(await self._take(keys=[tickets, serving, alive], args=[IDLE_EXPIRY_MS, self._ttl_ms]))
                stalled_since = None
                continue
            if loop.time() - kept_alive_at > self._ttl_ms / 3000:
                await self._redis.set(f"{alive}{ticket}", 1, px=self._ttl_ms)
                kept_alive_at = loop.time()
            current = int(await self._redis.get(serving) or -1)
            if await self._redis.exists(heartbeat) or await self._redis.exists(f"{alive}{current + 1}"):
                stalled_since = None
            elif stalled_since is None or stalled_since[0] != current:
                stalled_since = (current, asyncio.get_running_loop().time())
            elif asyncio.get_running_loop().time() - stalled_since[1] > self._grace:
                # The owner of ticket current+1 never entered or died holding it: skip it.
                await self._advance(keys=[serving], args=[current, IDLE_EXPIRY_MS])
                stalled_since = None
            await asyncio.sleep(delay)
            delay = min(MAX_POLL_SECONDS, delay * 1.5)  # a long wait polls less often

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
