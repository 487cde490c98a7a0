"""Per-key locks: the in-process FIFO lock and the sequenced lock that orders waiters by number."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.locks import InProcessKeyedLock, SequencedKeyedLock


class Turns:
    """Turns on one chat of a sequenced lock; turn 1 holds the lock until ``release`` is set."""

    def __init__(self, lock: SequencedKeyedLock) -> None:
        self.lock = lock
        self.entered: list[int] = []
        self.release = asyncio.Event()

    async def turn(self, sequence: int) -> None:
        async with self.lock.hold("chat", sequence):
            self.entered.append(sequence)
            if sequence == 1:
                await self.release.wait()

    async def first_holds_the_lock(self) -> asyncio.Task[None]:
        first = asyncio.create_task(self.turn(1))
        await asyncio.sleep(0)
        return first


async def test_sequenced_waiters_enter_lowest_sequence_first_whatever_their_arrival() -> None:
    turns = Turns(SequencedKeyedLock())
    first = await turns.first_holds_the_lock()
    waiters = [asyncio.create_task(turns.turn(n)) for n in (9, 6, 7, 2, 8)]  # arrive out of order
    await asyncio.sleep(0.01)
    assert turns.entered == [1]  # everyone else waits while the first holds the lock
    turns.release.set()
    await asyncio.gather(first, *waiters)
    assert turns.entered == [1, 2, 6, 7, 8, 9]


async def test_sequenced_lock_keeps_keys_independent_and_forgets_idle_keys() -> None:
    lock = SequencedKeyedLock()
    inside = asyncio.Event()

    async def hold_a() -> None:
        async with lock.hold("a", 1):
            inside.set()
            await asyncio.sleep(0.05)

    holder = asyncio.create_task(hold_a())
    await inside.wait()
    async with asyncio.timeout(0.02):  # "b" is not blocked by "a"
        async with lock.hold("b", 5):
            pass
    await holder
    assert lock._waiting == {}


async def test_a_cancelled_waiter_does_not_block_the_next_one() -> None:
    lock = SequencedKeyedLock()
    turns = Turns(lock)
    first = await turns.first_holds_the_lock()
    cancelled = asyncio.create_task(turns.turn(2))
    later = asyncio.create_task(turns.turn(3))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    turns.release.set()
    await asyncio.gather(first, later)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert turns.entered == [1, 3]
    assert lock._waiting == {}


async def test_in_process_lock_serialises_one_key_in_arrival_order() -> None:
    lock = InProcessKeyedLock()
    entered: list[int] = []

    async def turn(n: int) -> None:
        async with lock.hold("p"):
            entered.append(n)
            await asyncio.sleep(0.001)

    await asyncio.gather(*(turn(n) for n in range(5)))
    assert entered == [0, 1, 2, 3, 4]
