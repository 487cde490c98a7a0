"""Per-key locks: the in-process FIFO lock and the sequenced lock that orders waiters by number."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.locks import InProcessKeyedLock, SequencedKeyedLock


async def test_sequenced_waiters_enter_lowest_sequence_first_whatever_their_arrival() -> None:
    lock = SequencedKeyedLock()
    entered: list[int] = []
    release_first = asyncio.Event()

    async def turn(sequence: int) -> None:
        async with lock.hold("chat", sequence):
            entered.append(sequence)
            if sequence == 1:
                await release_first.wait()

    first = asyncio.create_task(turn(1))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(turn(n)) for n in (9, 6, 7, 2, 8)]  # arrive out of order
    await asyncio.sleep(0.01)
    assert entered == [1]  # everyone else waits while the first holds the lock
    release_first.set()
    await asyncio.gather(first, *waiters)
    assert entered == [1, 2, 6, 7, 8, 9]


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
    entered: list[int] = []
    release = asyncio.Event()

    async def turn(sequence: int) -> None:
        async with lock.hold("chat", sequence):
            entered.append(sequence)
            if sequence == 1:
                await release.wait()

    first = asyncio.create_task(turn(1))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(turn(2))
    later = asyncio.create_task(turn(3))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()
    await asyncio.gather(first, later)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert entered == [1, 3]
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
