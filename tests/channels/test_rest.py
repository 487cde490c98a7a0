"""The REST channel contract: Rasa-compatible body and replies, and clear errors for bad input."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.models import Message


async def _messages(client: Any) -> int:
    async with client.runtime.database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar_one())


async def test_a_message_gets_rasa_shaped_replies(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/webhooks/rest/webhook", json={"sender": "web-1", "message": "hello"})
    assert response.status_code == 200
    assert response.json() == [{"recipient_id": "web-1", "text": "echo: hello", "custom": {"lang": "en"}}]


async def test_language_hint_and_message_id_are_used(app_client: httpx.AsyncClient) -> None:
    body = {"sender": "web-2", "message": "/greet", "metadata": {"language": "ko", "message_id": "x1"}}
    first = await app_client.post("/webhooks/rest/webhook", json=body)
    again = await app_client.post("/webhooks/rest/webhook", json=body)
    assert first.json()[0]["custom"] == {"lang": "ko"}
    assert again.json() == first.json()
    assert await _messages(app_client) == 2  # one inbound, one reply


async def test_non_json_is_400(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/webhooks/rest/webhook", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    assert await _messages(app_client) == 0


async def test_missing_or_wrong_fields_are_422_naming_the_field(app_client: httpx.AsyncClient) -> None:
    for body, field in (
        ({"message": "hi"}, "sender"),
        ({"sender": "a", "message": 5}, "message"),
        ({"sender": "a", "message": "hi", "metadata": {"language": 3}}, "metadata.language"),
        ({"sender": "a", "message": "   "}, "message"),
        ({"sender": "a", "message": "hi", "extra": 1}, "extra"),
    ):
        response = await app_client.post("/webhooks/rest/webhook", json=body)
        assert response.status_code == 422, body
        assert field in [item["field"] for item in response.json()["detail"]], response.json()
    assert await _messages(app_client) == 0


async def test_message_over_4096_characters_is_413(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/webhooks/rest/webhook", json={"sender": "a", "message": "x" * 4097})
    assert response.status_code == 413
    assert response.json()["error"] == "message_too_long"
    ok = await app_client.post("/webhooks/rest/webhook", json={"sender": "a", "message": "x" * 4096})
    assert ok.status_code == 200


async def _outage_answers_503_then_the_retry_is_stored_once(
    client: httpx.AsyncClient, unavailable: AsyncEngine, message_id: str
) -> None:
    """One message while the sessions come from ``unavailable``, then twice more with the real database."""
    runtime = client.runtime  # type: ignore[attr-defined]
    healthy_sessions = runtime.database.sessions
    runtime.database.sessions = async_sessionmaker(unavailable, expire_on_commit=False)
    body = {"sender": "a", "message": "hello", "metadata": {"message_id": message_id}}
    try:
        response = await client.post("/webhooks/rest/webhook", json=body)
    finally:
        runtime.database.sessions = healthy_sessions
    assert response.status_code == 503
    assert response.json()["error"] == "storage_unavailable"
    for _ in range(2):
        retried = await client.post("/webhooks/rest/webhook", json=body)
        assert retried.status_code == 200
    assert await _messages(client) == 2


async def test_database_outage_is_503_and_the_retry_is_processed_once(app_client: httpx.AsyncClient) -> None:
    broken = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    await _outage_answers_503_then_the_retry_is_stored_once(app_client, broken, "outage-1")
    await broken.dispose()


async def test_every_connection_busy_is_503_and_the_retry_is_processed_once(app_client: httpx.AsyncClient) -> None:
    url = app_client.runtime.database.engine.url  # type: ignore[attr-defined]
    one = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    busy = await one.connect()  # the pool's only connection, held elsewhere
    await _outage_answers_503_then_the_retry_is_stored_once(app_client, one, "busy-1")
    await busy.close()
    await one.dispose()
