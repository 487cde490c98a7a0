"""Blocking I/O of a Rasa store run on one thread of its own, in arrival order, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

_T = TypeVar("_T")


class OneThread:
    """A single worker thread, started on first use (after Sanic forked its workers)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()

    async def run(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` on the thread; calls run one at a time, first come first served."""
        with self._guard:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(function, *args))
