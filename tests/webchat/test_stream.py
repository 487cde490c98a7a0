"""The live stream pushes coordinator replies and late answers of one sender, and nothing of anyone else."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bot.core.messages import OutboundMessage
from bot.core.replies import send_to_patient
from bot.webchat.transcript import conversation_of
from tests.conftest import ScriptedEngine
from tests.webchat.conftest import Served


class Events:
    """Reads ``message`` events from an open SSE response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.prelude: list[str] = []

    async def next_message(self, timeout: float = 5.0) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            event, data = "", ""
            async for line in self.lines:
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif not line and event == "message" and data:
                    parsed: dict[str, Any] = json.loads(data)
                    return parsed
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def wait_subscribed(self) -> None:
        """The first frame (retry hint) is sent once the subscription is in place."""
        async def first() -> None:
            async for line in self.lines:
                self.prelude.append(line)
                if line.startswith("retry:"):
                    return

        await asyncio.wait_for(first(), 5.0)


@asynccontextmanager
async def stream(served: Served, sender: str, **params: Any) -> AsyncIterator[Events]:
    query = {"sender": sender, **{k: str(v) for k, v in params.items()}}
    async with served.client.stream("GET", "/webchat/stream", params=query) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Events(response)
        await events.wait_subscribed()
        yield events


async def conversation(served: Served, sender: str) -> int:
    async with served.runtime.database.session() as session:
        found = await conversation_of(session, sender)
    assert found is not None
    return found


async def coordinator_reply(served: Served, sender: str, text: str) -> None:
    runtime = served.runtime
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, await conversation(served, sender),
                          OutboundMessage(text=text))


async def test_coordinator_reply_published_after_connecting_arrives(served: Served) -> None:
    await served.say("dana", "I need a person")
    async with stream(served, "dana") as events:
        # The patient's own turn (answered in its response) is not pushed; the coordinator's reply is.
        await served.say("dana", "are you there?")
        await coordinator_reply(served, "dana", "Hello Dana, I am your coordinator.")
        message = await events.next_message()
    assert message["author"] == "coordinator"
    assert message["text"] == "Hello Dana, I am your coordinator."
    assert isinstance(message["id"], int)
    assert "late" not in message


async def test_stream_never_carries_another_senders_messages(served: Served) -> None:
    await served.say("erin", "hi")
    await served.say("frank", "hi")
    async with stream(served, "erin") as events:
        await coordinator_reply(served, "frank", "frank's private reply")
        await served.say("frank", "frank's private question")
        await coordinator_reply(served, "erin", "erin's reply")
        message = await events.next_message()
    assert message["text"] == "erin's reply"


async def test_unknown_sender_gets_an_empty_stream(served: Served) -> None:
    started = time.monotonic()
    response = await served.client.get("/webchat/stream", params={"sender": "never-seen"})
    assert response.status_code == 200
    assert response.text.strip() == "retry: 5000"
    assert time.monotonic() - started < 5


async def test_a_late_answer_after_an_engine_outage_is_pushed_and_flagged(
    served: Served, engine: ScriptedEngine
) -> None:
    await served.say("gina", "hello")
    async with stream(served, "gina") as events:
        engine.down = True
        apology = await served.say("gina", "which visa do I need?")
        assert apology[0]["custom"]["error"] == "engine_unavailable"
        engine.down = False
        answered = await served.runtime.conversations.retry_unhandled(older_than_seconds=0)
        assert answered == 1
        message = await events.next_message()
    assert message["author"] == "bot"
    assert message["text"] == "echo: which visa do I need?"
    assert message["late"] is True


async def test_reconnect_replays_what_was_missed_after_the_last_event(served: Served) -> None:
    await served.say("hana", "hello")
    history = (await served.client.get("/webchat/history", params={"sender": "hana"})).json()["messages"]
    last_seen = history[-1]["id"]
    await coordinator_reply(served, "hana", "sent while you were offline")
    async with served.client.stream(
        "GET", "/webchat/stream", params={"sender": "hana"}, headers={"last-event-id": str(last_seen)}
    ) as response:
        message = await Events(response).next_message()
    assert message["text"] == "sent while you were offline"
    assert message["id"] > last_seen
