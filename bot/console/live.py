"""Server-sent events for open console pages.

Events on the bus carry message text; a stream forwards only ids and kinds, and only for cases the
user may see. The page then fetches the server-rendered (escaped) row or messages it needs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from bot.console.access import can_see
from bot.console.queries import cases_of_conversation
from bot.console.sessions import ConsoleUser, resolve_digest
from bot.core.conversation import CONSOLE_TOPIC, conversation_topic
from bot.handoff.models import Case
from bot.runtime import Runtime

HEARTBEAT_SECONDS = 15.0


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event frame."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def queue_event(runtime: Runtime, user: ConsoleUser, event: dict[str, Any]) -> dict[str, Any] | None:
    """What a queue page of ``user`` learns about a bus event: a visible case id and a kind, or nothing."""
    async with runtime.database.session() as session:
        case: Case | None = None
        if isinstance(event.get("case_id"), int):
            case = await session.get(Case, event["case_id"])
        elif isinstance(event.get("conversation_id"), int):
            cases = await cases_of_conversation(session, event["conversation_id"])
            case = next((c for c in cases if can_see(user, c)), None)
        if case is None:
            return None
        visible = can_see(user, case)
    kind = str(event.get("type", "message"))
    if not visible:
        # Tell the page to drop the row: it may have been claimed by a colleague.
        return {"case_id": case.id, "kind": "gone"}
    return {"case_id": case.id, "kind": kind, "author": event.get("author"), "change": event.get("action")}


async def _events(runtime: Runtime, topic: str, user: ConsoleUser) -> AsyncIterator[dict[str, Any] | None]:
    """Bus events of ``topic``; yields None at each heartbeat; stops when the session ends."""
    async with runtime.events.subscribe(topic) as events:
        iterator = aiter(events)
        pending: asyncio.Future[dict[str, Any]] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(iterator))
                # Wait without cancelling the pending read: cancelling would close the subscription.
                done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
                if not done:
                    async with runtime.database.session() as session:
                        if await resolve_digest(session, user.token_hash) is None:
                            return
                    yield None
                    continue
                event, pending = pending.result(), None
                yield event
        finally:
            if pending is not None:
                pending.cancel()


async def queue_stream(runtime: Runtime, user: ConsoleUser) -> AsyncIterator[str]:
    """The queue page's stream: ``case`` events with ids only."""
    yield "retry: 2000\n\n"
    async for event in _events(runtime, CONSOLE_TOPIC, user):
        if event is None:
            yield ": ping\n\n"
            continue
        payload = await queue_event(runtime, user, event)
        if payload is not None:
            yield sse("case", payload)


async def conversation_stream(runtime: Runtime, user: ConsoleUser, case_id: int) -> AsyncIterator[str]:
    """A case page's stream: ``message`` events (ids and authors) of the case's conversation."""
    async with runtime.database.session() as session:
        case = await session.get(Case, case_id)
    if case is None or not can_see(user, case):
        return
    yield "retry: 2000\n\n"
    async for event in _events(runtime, conversation_topic(case.conversation_id), user):
        if event is None:
            yield ": ping\n\n"
            continue
        if event.get("type") == "message":
            yield sse("message", {"message_id": event.get("message_id"), "author": event.get("author")})
