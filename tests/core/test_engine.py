"""Rasa's REST output becomes replies with their markers attached."""

from __future__ import annotations

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
    import json

    assert json.loads(seen[0].content) == {"sender": "s", "message": "hello", "metadata": {"language": "ja"}}
    await engine.aclose()
