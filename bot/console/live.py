"""Server-sent events for open console pages.

Events on the bus carry message text; a stream forwards only ids and kinds, and only for cases the
user may see. The page then fetches the server-rendered (escaped) row or messages it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
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


class SeenConversations:
    """One stream's memory of which case of a conversation its user sees (or that none is visible).

    Message events name conversations; without this memory every message of every conversation
    would cost each open console one database query. Every change of who sees which case comes with
    a ``case`` event (opened, claimed, assigned, replied…), which clears the memory.
    """

    def __init__(self, limit: int = 5000) -> None:
        self._limit = limit
        self._cases: OrderedDict[int, int | None] = OrderedDict()

    def forget(self) -> None:
        self._cases.clear()

    def get(self, conversation_id: int) -> tuple[bool, int | None]:
        """(known, visible case id or None)."""
        if conversation_id not in self._cases:
            return False, None
        self._cases.move_to_end(conversation_id)
        return True, self._cases[conversation_id]

    def remember(self, conversation_id: int, case_id: int | None) -> None:
        self._cases[conversation_id] = case_id
        self._cases.move_to_end(conversation_id)
        if len(self._cases) > self._limit:
            self._cases.popitem(last=False)


async def queue_event(
    runtime: Runtime, user: ConsoleUser, event: dict[str, Any], seen: SeenConversations | None = None
) -> dict[str, Any] | None:
    """What a queue page of ``user`` learns about a bus event: a visible case id and a kind, or nothing."""
    case_id = event.get("case_id")
    conversation_id = event.get("conversation_id")
    if isinstance(case_id, int):
        async with runtime.database.session() as session:
            case = await session.get(Case, case_id)
        if case is None:
            return None
        if not can_see(user, case):
            # Tell the page to drop the row: it may have been claimed by a colleague.
            return {"case_id": case.id, "kind": "gone"}
    elif isinstance(conversation_id, int):
        case_id = await _visible_case_of(runtime, user, conversation_id, seen)
        if case_id is None:
            return None
    else:
        return None
    kind = str(event.get("type", "message"))
    return {"case_id": case_id, "kind": kind, "author": event.get("author"), "change": event.get("action")}


async def _visible_case_of(
    runtime: Runtime, user: ConsoleUser, conversation_id: int, seen: SeenConversations | None
) -> int | None:
    """The case of a conversation that ``user`` sees, from ``seen`` when it knows, else the database."""
    known, case_id = seen.get(conversation_id) if seen is not None else (False, None)
    if known:
        return case_id
    async with runtime.database.session() as session:
        cases = await cases_of_conversation(session, conversation_id)
    case_id = next((c.id for c in cases if can_see(user, c)), None)
    if seen is not None:
        seen.remember(conversation_id, case_id)
    return case_id


async def _events(
    runtime: Runtime, topics: tuple[str, ...], user: ConsoleUser
) -> AsyncIterator[tuple[str, dict[str, Any]] | None]:
    """(topic, event) of the bus ``topics``; None at each heartbeat; stops when the session ends."""
    async with contextlib.AsyncExitStack() as stack:
        iterators = {topic: aiter(await stack.enter_async_context(runtime.events.subscribe(topic))) for topic in topics}
        pending: dict[asyncio.Future[dict[str, Any]], str] = {}
        try:
            while True:
                waiting = set(pending.values())
                for topic, iterator in iterators.items():
                    if topic not in waiting:
                        pending[asyncio.ensure_future(anext(iterator))] = topic
                # Wait without cancelling the pending reads: cancelling would close the subscriptions.
                done, _ = await asyncio.wait(pending, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    async with runtime.database.session() as session:
                        if await resolve_digest(session, user.token_hash) is None:
                            return
                    yield None
                    continue
                for read in sorted(done, key=lambda future: topics.index(pending[future])):
                    yield pending.pop(read), read.result()
        finally:
            for read in pending:
                read.cancel()


async def queue_stream(runtime: Runtime, user: ConsoleUser) -> AsyncIterator[str]:
    """The queue page's stream: ``case`` events with ids only."""
    yield "retry: 2000\n\n"
    seen = SeenConversations()
    async for item in _events(runtime, (CONSOLE_TOPIC,), user):
        if item is None:
            yield ": ping\n\n"
            continue
        event = item[1]
        if event.get("type") == "case":
            seen.forget()
        payload = await queue_event(runtime, user, event, seen)
        if payload is not None:
            yield sse("case", payload)


async def conversation_stream(runtime: Runtime, user: ConsoleUser, case_id: int) -> AsyncIterator[str]:
    """A case page's stream: ``message`` events (ids and authors) of the case's conversation, and a
    ``case`` event (the change, or ``gone`` when a colleague took it) when the case changes elsewhere."""
    async with runtime.database.session() as session:
        case = await session.get(Case, case_id)
    if case is None or not can_see(user, case):
        return
    yield "retry: 2000\n\n"
    messages = conversation_topic(case.conversation_id)
    async for item in _events(runtime, (messages, CONSOLE_TOPIC), user):
        if item is None:
            yield ": ping\n\n"
            continue
        topic, event = item
        if topic == messages and event.get("type") == "message":
            yield sse("message", {"message_id": event.get("message_id"), "author": event.get("author")})
        elif topic == CONSOLE_TOPIC and event.get("type") == "case" and event.get("case_id") == case_id:
            change = await queue_event(runtime, user, event)
            if change is None:
                continue
            yield sse("case", {"kind": change["kind"], "change": change.get("change")})
            if change["kind"] == "gone":
                return  # no longer this user's case: nothing more about it
