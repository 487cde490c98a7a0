"""Per-conversation ordering: one turn at a time per patient (in-process or Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class KeyedLock(Protocol):
    """Serialises work on the same key; different keys run in parallel."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...


class InProcessKeyedLock:
    """asyncio locks per key, dropped when nobody waits (embedded default, one worker)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[key] -= 1
            if self._waiters[key] == 0:
                del self._waiters[key]
                del self._locks[key]
