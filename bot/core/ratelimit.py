"""Per-patient flood protection: at most N messages a minute (in-process or Redis)."""

from __future__ import annotations

import time
from collections import deque
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    """Says whether one more message from ``key`` is within the limit (and counts it)."""

    async def allow(self, key: str) -> bool: ...


class InProcessRateLimiter:
    """Sliding one-minute window per key (embedded default, one worker)."""

    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._hits: dict[str, deque[float]] = {}

    async def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > 60:
            hits.popleft()
        if len(hits) >= self._limit:
            return False
        hits.append(now)
        return True


class RedisRateLimiter:
    """Fixed one-minute windows in Redis, shared by every worker."""

    def __init__(self, redis: Redis, per_minute: int) -> None:
        self._redis = redis
        self._limit = per_minute

    async def allow(self, key: str) -> bool:
        window = int(time.time() // 60)
        name = f"mc:rate:{key}:{window}"
        count = await self._redis.incr(name)
        if count == 1:
            await self._redis.expire(name, 120)
        return int(count) <= self._limit
