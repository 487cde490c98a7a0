"""Announces cases opened by other processes (the action server opens them) as soon as they are committed.

Without it an open queue page learns of a new case only from the bot's reply at the end of the
patient's turn; the case row is in the database earlier. A cheap indexed query (``id > last seen``)
runs every 100 ms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import func, select

from bot.core.conversation import CONSOLE_TOPIC
from bot.handoff.models import Case
from bot.runtime import Runtime

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1


async def announce_new_cases(runtime: Runtime, last_id: int) -> int:
    """Publish a ``case`` event for every case with an id above ``last_id``; return the new high mark."""
    async with runtime.database.session() as session:
        rows = (await session.execute(
            select(Case.id, Case.conversation_id, Case.number).where(Case.id > last_id).order_by(Case.id)
        )).all()
    for case_id, conversation_id, number in rows:
        await runtime.events.publish(CONSOLE_TOPIC, {
            "type": "case", "action": "opened", "case_id": case_id, "conversation_id": conversation_id,
            "case_number": number,
        })
        last_id = case_id
    return last_id


def new_case_watcher(runtime: Runtime, poll_seconds: float = POLL_SECONDS) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background job for the application's lifespan."""

    async def job() -> None:
        last_id: int | None = None
        while True:
            try:
                if last_id is None:
                    async with runtime.database.session() as session:
                        last_id = int((await session.execute(select(func.coalesce(func.max(Case.id), 0)))).scalar_one())
                else:
                    last_id = await announce_new_cases(runtime, last_id)
            except Exception as exc:  # a database blip must not end the job
                logger.warning("new-case watcher: %s", type(exc).__name__)
            await asyncio.sleep(poll_seconds)

    return job
