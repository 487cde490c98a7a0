"""Rasa's REST output becomes replies with their markers attached; the engine's HTTP behaviour against a fake Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.core.engine import EngineUnavailable, RasaEngine, parse_rasa_replies
from tests.e2e.stack import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


@pytest.fixture
async def fake_rasa() -> AsyncIterator[Callable[[dict[tuple[str, str], Handler]], Awaitable[str]]]:
    """Start a fake Rasa on loopback with the given (method, path) handlers; yields its base URL."""
    runners: list[web.AppRunner] = []

    async def start(routes: dict[tuple[str, str], Handler]) -> str:
        app = web.Application()
        for (method, path), handler in routes.items():
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_unreachable_rasa_raises_engine_unavailable() -> None:
    engine = RasaEngine(f"http://127.0.0.1:{free_port()}", "token", timeout=0.5)
    with pytest.raises(EngineUnavailable):
        await engine.respond("s", "hello", {})
    assert await engine.healthy() is False
    await engine.aclose()


async def test_engine_sends_sender_text_and_metadata(fake_rasa: Any) -> None:
    seen: list[Any] = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response([{"recipient_id": "s", "text": "hi"}])

    engine = RasaEngine(await fake_rasa({("POST", "/webhooks/rest/webhook"): webhook}), "token")
    replies = await engine.respond("s", "hello", {"language": "ja"})
    assert replies[0].text == "hi"
    assert seen == [{"sender": "s", "message": "hello", "metadata": {"language": "ja"}}]
    await engine.aclose()


async def test_rasa_errors_and_bad_bodies_are_engine_unavailable(fake_rasa: Any) -> None:
    async def server_error(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>")

    async def a_dict(request: web.Request) -> web.Response:
        return web.json_response({"not": "a list"})

    for handler in (server_error, not_json, a_dict):
        engine = RasaEngine(await fake_rasa({("POST", "/webhooks/rest/webhook"): handler}), "token")
        with pytest.raises(EngineUnavailable):
            await engine.respond("s", "hello", {})
        await engine.aclose()


async def test_parse_status_and_forget_use_the_api_token(fake_rasa: Any) -> None:
    tokens: list[str | None] = []
    forgotten: list[tuple[str, Any]] = []

    async def parse(request: web.Request) -> web.Response:
        tokens.append(request.query.get("token"))
        return web.json_response({"intent": {"name": "ask_status", "confidence": 0.93}})

    async def status(request: web.Request) -> web.Response:
        tokens.append(request.query.get("token"))
        return web.json_response({"model_file": "m.tar.gz"}, status=200 if request.query.get("token") == "t" else 401)

    async def replace_events(request: web.Request) -> web.Response:
        tokens.append(request.query.get("token"))
        forgotten.append((request.match_info["sender"], await request.json()))
        return web.json_response({"events": []})

    url = await fake_rasa({
        ("POST", "/model/parse"): parse,
        ("GET", "/status"): status,
        ("PUT", "/conversations/{sender}/tracker/events"): replace_events,
    })
    engine = RasaEngine(url, "t")
    assert await engine.intent_of("where is my case") == ("ask_status", 0.93)
    assert await engine.healthy() is True
    await engine.forget("abc123")
    assert forgotten == [("abc123", [])]
    assert tokens == ["t", "t", "t"]
    await engine.aclose()
    wrong = RasaEngine(url, "wrong")
    assert await wrong.healthy() is False
    await wrong.aclose()


async def test_at_most_max_in_flight_turns_reach_rasa_and_the_others_go_in_arrival_order(fake_rasa: Any) -> None:
    at_rasa = 0
    most = 0
    order: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        nonlocal at_rasa, most
        at_rasa += 1
        most = max(most, at_rasa)
        order.append((await request.json())["sender"])
        await asyncio.sleep(0.02)
        at_rasa -= 1
        return web.json_response([{"recipient_id": "s", "text": "hi"}])

    engine = RasaEngine(await fake_rasa({("POST", "/webhooks/rest/webhook"): webhook}), "token", max_in_flight=2)
    await asyncio.gather(*(engine.respond(f"p{n}", "hello", {}) for n in range(8)))
    assert most == 2
    assert order == [f"p{n}" for n in range(8)]
    await engine.aclose()


async def test_a_turn_that_cannot_reach_rasa_within_the_timeout_is_unavailable(fake_rasa: Any) -> None:
    release = asyncio.Event()

    async def webhook(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response([])

    url = await fake_rasa({("POST", "/webhooks/rest/webhook"): webhook})
    engine = RasaEngine(url, "token", timeout=0.6, max_in_flight=1, queue_seconds=0.1)
    first = asyncio.create_task(engine.respond("a", "hello", {}))
    await asyncio.sleep(0.05)
    with pytest.raises(EngineUnavailable, match="overloaded"):
        await engine.respond("b", "hello", {})
    release.set()
    assert await first == []
    held = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await held.wait()
        return web.json_response([])

    slow_engine = RasaEngine(await fake_rasa({("POST", "/webhooks/rest/webhook"): slow}), "token", timeout=0.2)
    with pytest.raises(EngineUnavailable, match="did not answer"):
        await slow_engine.respond("c", "hello", {})
    held.set()
    await engine.aclose()
    await slow_engine.aclose()


async def test_a_conversation_rasa_stopped_short_of_listening_is_resumed_and_the_turn_asked_again(
    fake_rasa: Any,
) -> None:
    appended: list[tuple[str, str | None, Any]] = []
    latest = {"action": "action_default_fallback"}

    async def webhook(request: web.Request) -> web.Response:
        if latest["action"] != "action_listen":  # Rasa's circuit breaker: nothing predicted, nothing said
            return web.json_response([])
        return web.json_response([{"recipient_id": "s", "text": "Hello!"}])

    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"sender_id": request.match_info["sender"], "latest_action_name": latest["action"]})

    async def append(request: web.Request) -> web.Response:
        event = await request.json()
        appended.append((request.match_info["sender"], request.query.get("token"), event))
        latest["action"] = event["name"]
        return web.json_response({})

    url = await fake_rasa({
        ("POST", "/webhooks/rest/webhook"): webhook,
        ("GET", "/conversations/{sender}/tracker"): tracker,
        ("POST", "/conversations/{sender}/tracker/events"): append,
    })
    engine = RasaEngine(url, "t")
    replies = await engine.respond("abc", "hello", {})
    assert [r.text for r in replies] == ["Hello!"]
    assert appended == [("abc", "t", {"event": "action", "name": "action_listen"})]
    await engine.aclose()


async def test_a_silent_turn_that_ended_normally_is_not_asked_again(fake_rasa: Any) -> None:
    turns: list[str] = []
    appended: list[Any] = []

    async def webhook(request: web.Request) -> web.Response:
        turns.append((await request.json())["message"])
        return web.json_response([])

    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"latest_action_name": "action_listen"})

    async def append(request: web.Request) -> web.Response:
        appended.append(await request.json())
        return web.json_response({})

    engine = RasaEngine(await fake_rasa({
        ("POST", "/webhooks/rest/webhook"): webhook,
        ("GET", "/conversations/{sender}/tracker"): tracker,
        ("POST", "/conversations/{sender}/tracker/events"): append,
    }), "t")
    assert await engine.respond("abc", "/silent", {}) == []
    assert turns == ["/silent"]
    assert appended == []
    await engine.aclose()
