"""Per-conversation ordering: one turn at a time per patient (in-process or Redis)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
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


class SequencedKeyedLock:
    """In-process per-key lock whose waiters enter lowest sequence number first, not by arrival.

    For channels whose messages carry a sequence (Telegram's ``update_id``): updates of one chat that
    arrive over concurrent connections slightly out of order are still answered in sequence, as long
    as the earlier one arrives before the lock is handed on.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, list[tuple[int, int, asyncio.Future[None]]]] = {}
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def hold(self, key: str, sequence: int) -> AsyncIterator[None]:
        queue = self._waiting.get(key)
        if queue is None:
            self._waiting[key] = []  # free: enter at once, later arrivals queue up
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(queue, (sequence, next(self._arrivals), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._hand_on(key)  # the lock was handed to us as we were cancelled: pass it on
                raise
        try:
            yield
        finally:
            self._hand_on(key)

    def _hand_on(self, key: str) -> None:
        queue = self._waiting[key]
        while queue:
            _, _, turn = heapq.heappop(queue)
            if not turn.done():  # a cancelled waiter is skipped
                turn.set_result(None)
                return
        del self._waiting[key]
