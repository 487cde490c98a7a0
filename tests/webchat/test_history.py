"""History returns one sender's own transcript and nothing of anybody else's."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Button, OutboundMessage
from bot.core.replies import send_to_patient
from tests.conftest import ScriptedEngine


async def test_history_restores_the_transcript_in_order(app_client: Any) -> None:
    await app_client.post("/webhooks/rest/webhook", json={"sender": "alice", "message": "hello"})
    await app_client.post("/webhooks/rest/webhook", json={"sender": "alice", "message": "visa?"})
    data = (await app_client.get("/webchat/history", params={"sender": "alice"})).json()
    assert [(m["author"], m["text"]) for m in data["messages"]] == [
        ("patient", "hello"), ("bot", "echo: hello"), ("patient", "visa?"), ("bot", "echo: visa?"),
    ]
    ids = [m["id"] for m in data["messages"]]
    assert ids == sorted(ids)


async def test_history_never_contains_another_senders_messages(app_client: Any) -> None:
    await app_client.post("/webhooks/rest/webhook", json={"sender": "alice", "message": "alice secret"})
    await app_client.post("/webhooks/rest/webhook", json={"sender": "bob", "message": "bob secret"})
    runtime = app_client.runtime
    bob = (await app_client.get("/webchat/history", params={"sender": "bob"})).json()["messages"]
    async with runtime.database.session() as session:
        from bot.webchat.transcript import conversation_of

        bob_conversation = await conversation_of(session, "bob")
    assert bob_conversation is not None
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, bob_conversation,
                          OutboundMessage(text="for bob only"))
    alice = (await app_client.get("/webchat/history", params={"sender": "alice"})).json()["messages"]
    alice_text = " ".join(m["text"] for m in alice)
    assert "alice secret" in alice_text
    assert "bob" not in alice_text
    assert all("bob" not in m["text"] for m in alice)
    bob = (await app_client.get("/webchat/history", params={"sender": "bob"})).json()["messages"]
    assert bob[-1]["author"] == "coordinator" and bob[-1]["text"] == "for bob only"


async def test_unknown_sender_gets_an_empty_history(app_client: Any) -> None:
    response = await app_client.get("/webchat/history", params={"sender": "nobody-knows-me"})
    assert response.status_code == 200
    assert response.json() == {"messages": []}
    assert response.headers["cache-control"] == "no-store"


async def test_a_sender_of_another_channel_is_not_a_web_chat_sender(app_client: Any) -> None:
    from bot.core.messages import InboundMessage

    runtime = app_client.runtime
    await runtime.conversations.handle(InboundMessage(channel="telegram", external_user_id="42", text="tg secret"))
    response = await app_client.get("/webchat/history", params={"sender": "42"})
    assert response.json() == {"messages": []}


async def test_history_carries_buttons_and_only_known_markers(app_client: Any, engine: ScriptedEngine) -> None:
    engine.answer = lambda _s, _t, _m: [OutboundMessage(
        text="Pick one", buttons=[Button("Visa", "/ask_visa")],
        custom={"intent": "greet", "kb_id": "visa-l", "internal_note": "not for the page"},
    )]
    await app_client.post("/webhooks/rest/webhook", json={"sender": "carol", "message": "hi"})
    bot = (await app_client.get("/webchat/history", params={"sender": "carol"})).json()["messages"][-1]
    assert bot["buttons"] == [{"title": "Visa", "payload": "/ask_visa"}]
    assert bot["custom"] == {"intent": "greet", "kb_id": "visa-l"}


async def test_sender_must_be_given(app_client: Any) -> None:
    assert (await app_client.get("/webchat/history")).status_code == 422
    assert (await app_client.get("/webchat/history", params={"sender": ""})).status_code == 422
    assert (await app_client.get("/webchat/history", params={"sender": "x" * 129})).status_code == 422


async def test_pressed_buttons_come_back_as_their_titles(app_client: Any, engine: ScriptedEngine) -> None:
    engine.answer = lambda _s, text, _m: [OutboundMessage(
        text=f"re: {text}", buttons=[Button("Yes, I agree", "/affirm"), Button("No", "/deny")],
    )]
    for message in ("I want a person", "/affirm", '/choose_language{"ui_language":"ar"}', "/deny"):
        await app_client.post("/webhooks/rest/webhook", json={"sender": "ivan", "message": message})
    mine = [m["text"] for m in (await app_client.get("/webchat/history", params={"sender": "ivan"})).json()["messages"]
            if m["author"] == "patient"]
    assert mine == ["I want a person", "Yes, I agree", "العربية", "No"]
