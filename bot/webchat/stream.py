"""The web chat's live stream (server-sent events): coordinator replies and late answers of one sender."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from bot.core.conversation import conversation_topic
from bot.runtime import Runtime
from bot.webchat.transcript import conversation_of, pushed_after, pushed_message

HEARTBEAT_SECONDS = 15.0
# A stream ends after this long and the browser reconnects (with Last-Event-ID): no connection lives forever.
MAX_STREAM_SECONDS = 30 * 60.0
# How soon a browser retries when there is nothing to stream yet (a sender with no conversation).
RETRY_UNKNOWN_MS = 5000
RETRY_MS = 2000


def frame(message: dict[str, Any]) -> str:
    """One SSE ``message`` event whose id is the message id (the browser resumes from it)."""
    return f"id: {message['id']}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"


async def patient_stream(
    runtime: Runtime, sender: str, after: int | None, heartbeat: float = HEARTBEAT_SECONDS,
    lifetime: float = MAX_STREAM_SECONDS,
) -> AsyncIterator[str]:
    """Events of the REST patient ``sender`` only; an unknown sender gets an empty stream and a retry hint."""
    async with runtime.database.session() as session:
        conversation_id = await conversation_of(session, sender)
    if conversation_id is None:
        yield f"retry: {RETRY_UNKNOWN_MS}\n\n"
        return
    yield f"retry: {RETRY_MS}\n\n"
    deadline = time.monotonic() + lifetime
    # Subscribe before replaying, so nothing published between the two is lost; ids dedupe the overlap.
    async with runtime.events.subscribe(conversation_topic(conversation_id)) as events:
        last = after or 0
        if after is not None:
            async with runtime.database.session() as session:
                missed = await pushed_after(session, conversation_id, after)
            for message in missed:
                last = max(last, message["id"])
                yield frame(message)
        iterator = aiter(events)
        pending: asyncio.Future[dict[str, Any]] | None = None
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if pending is None:
                    pending = asyncio.ensure_future(anext(iterator))
                # Wait without cancelling the pending read: cancelling it would close the subscription.
                done, _ = await asyncio.wait({pending}, timeout=min(heartbeat, remaining))
                if not done:
                    yield ": ping\n\n"
                    continue
                event, pending = pending.result(), None
                message_id = event.get("message_id")
                if event.get("type") != "message" or not isinstance(message_id, int) or message_id <= last:
                    continue
                if event.get("author") not in ("coordinator", "bot"):
                    continue  # the page shows the patient's own messages itself
                async with runtime.database.session() as session:
                    pushed = await pushed_message(session, conversation_id, message_id)
                if pushed is not None:
                    last = message_id
                    yield frame(pushed)
        finally:
            if pending is not None:
                pending.cancel()
