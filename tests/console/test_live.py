"""Live updates: what the event streams of a queue page and a case page forward (ids only, rights checked)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.console.live import SeenConversations, conversation_stream, queue_event, queue_stream
from bot.console.security import token_digest
from bot.console.sessions import ConsoleUser, start_session
from bot.console.watch import announce_new_cases
from bot.core.messages import InboundMessage
from bot.handoff import cases
from bot.handoff.models import Role
from tests.console.conftest import ConsoleHarness


async def _user(harness: ConsoleHarness, email: str, role: Role = Role.COORDINATOR) -> ConsoleUser:
    coordinator_id = await harness.coordinator(email, role)
    async with harness.database.session() as session:
        token = await start_session(session, coordinator_id, harness.runtime.settings.console)
    return ConsoleUser(coordinator_id, email, email, role, "csrf", token_digest(token))


async def _next(stream: AsyncIterator[str], timeout: float = 3.0) -> str:
    return await asyncio.wait_for(anext(stream), timeout)


async def test_queue_stream_announces_a_patient_message_by_case_id_without_text(harness: ConsoleHarness) -> None:
    user = await _user(harness, "ana@example.org")
    case = await harness.patient_case("live-1")
    stream = queue_stream(harness.runtime, user)
    assert await _next(stream) == "retry: 2000\n\n"
    pending = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.1)  # the stream subscribes
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-1", "my secret symptoms"))
    frame = await pending
    await stream.aclose()
    assert frame.startswith("event: case\ndata: ")
    data = json.loads(frame.split("data: ", 1)[1])
    assert data["case_id"] == case.id and data["kind"] == "message" and data["author"] == "patient"
    assert "secret" not in frame


async def test_queue_event_respects_rights(harness: ConsoleHarness) -> None:
    ana = await _user(harness, "ana@example.org")
    ben = await _user(harness, "ben@example.org")
    case = await harness.patient_case("live-2")
    async with harness.database.session() as session:
        assert await cases.claim_case(session, case.id, ana.id)
    event = {"type": "message", "conversation_id": case.conversation_id, "author": "patient", "text": "x"}
    assert (await queue_event(harness.runtime, ana, event) or {})["kind"] == "message"
    # The colleague learns nothing of the messages, and that the row must go when the case is claimed.
    assert await queue_event(harness.runtime, ben, event) is None
    claimed = {"type": "case", "action": "claimed", "case_id": case.id, "assignee_id": ana.id}
    assert await queue_event(harness.runtime, ben, claimed) == {"case_id": case.id, "kind": "gone"}
    # A conversation without a case concerns no queue.
    await harness.runtime.conversations.handle(InboundMessage("rest", "no-case", "hello"))
    assert await queue_event(harness.runtime, ana, {"type": "message", "conversation_id": 10_000}) is None


async def test_a_queue_stream_looks_a_conversation_up_once_until_a_case_changes(
    harness: ConsoleHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.console import live

    ana = await _user(harness, "ana@example.org")
    case = await harness.patient_case("live-7")
    lookups: list[int] = []
    real_lookup = live.cases_of_conversation

    async def counted(session: Any, conversation_id: int) -> Any:
        lookups.append(conversation_id)
        return await real_lookup(session, conversation_id)

    monkeypatch.setattr(live, "cases_of_conversation", counted)
    seen = SeenConversations()
    message = {"type": "message", "conversation_id": case.conversation_id, "author": "patient"}
    for _ in range(3):
        assert (await queue_event(harness.runtime, ana, message, seen) or {}).get("case_id") == case.id
    assert lookups == [case.conversation_id]
    seen.forget()  # what the stream does on any case event
    await queue_event(harness.runtime, ana, message, seen)
    assert lookups == [case.conversation_id] * 2


async def test_a_queue_stream_sees_a_case_opened_after_the_conversation_was_remembered_without_one(
    harness: ConsoleHarness,
) -> None:
    user = await _user(harness, "ana@example.org")
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-8", "hello"))
    stream = queue_stream(harness.runtime, user)
    assert await _next(stream) == "retry: 2000\n\n"
    pending = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.1)
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-8", "still no case"))
    await asyncio.sleep(0.1)
    assert not pending.done(), "a conversation without a case reached the queue"
    case = await harness.patient_case("live-8")
    await announce_new_cases(harness.runtime, case.id - 1)
    opened = json.loads((await pending).split("data: ", 1)[1])
    assert opened["case_id"] == case.id and opened["change"] == "opened"
    following = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.05)
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-8", "now with a case"))
    assert json.loads((await following).split("data: ", 1)[1])["case_id"] == case.id
    await stream.aclose()


async def test_case_stream_forwards_the_conversations_messages(harness: ConsoleHarness) -> None:
    user = await _user(harness, "boss@example.org", Role.ADMIN)
    case = await harness.patient_case("live-3")
    stream = conversation_stream(harness.runtime, user, case.id)
    assert await _next(stream) == "retry: 2000\n\n"
    pending = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.1)
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-3", "second message"))
    frame = await pending
    await stream.aclose()
    assert frame.startswith("event: message\n")
    assert json.loads(frame.split("data: ", 1)[1])["author"] == "patient"


async def test_case_stream_tells_a_change_made_elsewhere_and_ends_when_a_colleague_takes_the_case(
    harness: ConsoleHarness,
) -> None:
    boss = await _user(harness, "boss@example.org", Role.ADMIN)
    ana = await _user(harness, "ana@example.org")
    ben = await _user(harness, "ben@example.org")
    case = await harness.patient_case("live-5")
    other = await harness.patient_case("live-6")
    streams = {user.email: conversation_stream(harness.runtime, user, case.id) for user in (boss, ben)}
    for stream in streams.values():
        assert await _next(stream) == "retry: 2000\n\n"
    pending = {email: asyncio.ensure_future(_next(stream)) for email, stream in streams.items()}
    await asyncio.sleep(0.1)  # the streams subscribe
    for claimed in (other, case):  # another case's change is not this page's business
        async with harness.database.session() as session:
            assert await cases.claim_case(session, claimed.id, ana.id)
            loaded = await cases.get_case(session, claimed.id)
        await cases.publish_case_event(harness.runtime.events, loaded, "claimed")
    frames = {email: await read for email, read in pending.items()}
    assert frames["boss@example.org"] == 'event: case\ndata: {"kind":"case","change":"claimed"}\n\n'
    assert frames["ben@example.org"] == 'event: case\ndata: {"kind":"gone","change":null}\n\n'
    # Ben's page learns nothing more about a case that is no longer his to see.
    with pytest.raises(StopAsyncIteration):
        await _next(streams["ben@example.org"])
    # The admin's page still gets the conversation's messages.
    pending_message = asyncio.ensure_future(_next(streams["boss@example.org"]))
    await asyncio.sleep(0.05)
    await harness.runtime.conversations.handle(InboundMessage("rest", "live-5", "one more thing"))
    assert (await pending_message).startswith("event: message\n")
    await streams["boss@example.org"].aclose()


async def test_case_stream_is_empty_for_a_colleagues_case(harness: ConsoleHarness) -> None:
    ana = await _user(harness, "ana@example.org")
    ben = await _user(harness, "ben@example.org")
    case = await harness.patient_case("live-4")
    async with harness.database.session() as session:
        await cases.claim_case(session, case.id, ana.id)
    frames = [frame async for frame in conversation_stream(harness.runtime, ben, case.id)]
    assert frames == []


async def test_new_case_watcher_announces_cases_committed_elsewhere(harness: ConsoleHarness) -> None:
    from bot.console.watch import announce_new_cases
    from bot.core.conversation import CONSOLE_TOPIC

    assert "console-new-cases" in harness.runtime.background_jobs
    first = await harness.patient_case("watch-1")
    async with harness.runtime.events.subscribe(CONSOLE_TOPIC) as events:
        second = await harness.patient_case("watch-2")  # as the action server would open it
        high = await announce_new_cases(harness.runtime, first.id)
        seen = []
        while True:
            event = await asyncio.wait_for(anext(events), 2)
            if event.get("type") == "case":
                seen.append(event)
                break
    assert high == second.id
    assert seen[0]["case_id"] == second.id and seen[0]["action"] == "opened"
    assert await announce_new_cases(harness.runtime, high) == high
