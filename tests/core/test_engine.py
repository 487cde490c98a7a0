"""Rasa's REST output becomes replies with their markers attached."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.core.engine import EngineUnavailable, RasaEngine, parse_rasa_replies


def test_bare_custom_message_is_folded_into_the_reply_before_it() -> None:
    replies = parse_rasa_replies([
        {"recipient_id": "s", "text": "Answer", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {"recipient_id": "s", "custom": {"kb_id": "visa-s1", "source": "002.txt"}},
        {"recipient_id": "s", "text": "Second"},
    ])
    assert [r.text for r in replies] == ["Answer", "Second"]
    assert replies[0].custom == {"kb_id": "visa-s1", "source": "002.txt"}
    assert replies[0].buttons[0].payload == "/affirm"
    assert replies[0].as_rest("s") == {
        "recipient_id": "s",
        "text": "Answer",
        "buttons": [{"title": "Yes", "payload": "/affirm"}],
        "custom": {"kb_id": "visa-s1", "source": "002.txt"},
    }


def test_custom_only_first_message_is_kept() -> None:
    replies = parse_rasa_replies([{"custom": {"handoff": "case_opened"}}])
    assert len(replies) == 1 and replies[0].custom == {"handoff": "case_opened"}


async def test_unreachable_rasa_raises_engine_unavailable() -> None:
    engine = RasaEngine("http://127.0.0.1:9", "token", timeout=0.5)
    with pytest.raises(EngineUnavailable):
        await engine.respond("s", "hello", {})
    assert await engine.healthy() is False
    await engine.aclose()


async def test_engine_sends_sender_text_and_metadata() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"recipient_id": "s", "text": "hi"}])

    engine = RasaEngine("http://rasa.test", "token")
    engine._client = httpx.AsyncClient(base_url="http://rasa.test", transport=httpx.MockTransport(handler))
    replies = await engine.respond("s", "hello", {"language": "ja"})
    assert replies[0].text == "hi"
    assert seen[0].url.path == "/webhooks/rest/webhook"
    assert json.loads(seen[0].content) == {"sender": "s", "message": "hello", "metadata": {"language": "ja"}}
    await engine.aclose()


async def test_at_most_max_in_flight_turns_reach_rasa_and_the_others_go_in_arrival_order() -> None:
    at_rasa = 0
    most = 0
    order: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal at_rasa, most
        at_rasa += 1
        most = max(most, at_rasa)
        order.append(json.loads(request.content)["sender"])
        await asyncio.sleep(0.02)
        at_rasa -= 1
        return httpx.Response(200, json=[{"recipient_id": "s", "text": "hi"}])

    engine = RasaEngine("http://rasa.test", "token", max_in_flight=2)
    engine._client = httpx.AsyncClient(base_url="http://rasa.test", transport=httpx.MockTransport(handler))
    await asyncio.gather(*(engine.respond(f"p{n}", "hello", {}) for n in range(8)))
    assert most == 2
    assert order == [f"p{n}" for n in range(8)]
    await engine.aclose()


async def test_a_turn_that_cannot_reach_rasa_within_the_timeout_is_unavailable() -> None:
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=[])

    engine = RasaEngine("http://rasa.test", "token", timeout=0.2, max_in_flight=1)
    engine._client = httpx.AsyncClient(base_url="http://rasa.test", transport=httpx.MockTransport(handler))
    first = asyncio.create_task(engine.respond("a", "hello", {}))
    await asyncio.sleep(0.01)
    with pytest.raises(EngineUnavailable, match="overloaded"):
        await engine.respond("b", "hello", {})
    release.set()
    assert await first == []
    await engine.aclose()
