"""Fixtures of the WeChat channel tests: the fake WeChat API and the app wired to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.core.messages import OutboundMessage
from bot.storage.models import Message, Patient
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.wechat_requests import AES_KEY, TOKEN, signed_query, text_xml
from tests.conftest import ScriptedEngine, make_runtime

MENU = [
    {"group": "Services", "name": "Visa", "key": "/ask_visa"},
    {"group": "Services", "name": "Payment", "key": "/ask_payment"},
    {"name": "Coordinator", "key": "/request_human"},
]


class SlowEngine(ScriptedEngine):
    """The scripted engine, answering after ``delay`` seconds (a slow dialogue turn)."""

    def __init__(self, delay: float = 0.0, answer: Any = None) -> None:
        super().__init__(answer)
        self.delay = delay

    async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().respond(sender_id, text, metadata)


@dataclass
class WeChatApp:
    """The application under test, its fake WeChat API and its scripted engine."""

    client: httpx.AsyncClient
    runtime: Any
    fake: FakeWeChat
    engine: SlowEngine

    async def post(self, xml: str, query: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post("/webhooks/wechat", params=query or signed_query(), content=xml.encode())

    async def say(self, openid: str, text: str, msg_id: int) -> httpx.Response:
        return await self.post(text_xml(openid, text, msg_id))

    async def count(self, model: Any) -> int:
        async with self.runtime.database.session() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())

    async def nothing_stored(self) -> bool:
        return await self.count(Message) == 0 and await self.count(Patient) == 0


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


def wechat_settings(fake: FakeWeChat, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "api_base_url": fake.base_url,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "passive_reply_seconds": 1.5,
        "menu": MENU,
        "default_language": "zh",
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def slow_engine() -> SlowEngine:
    return SlowEngine()


@pytest.fixture
def wechat_overrides() -> dict[str, Any]:
    """Override in a test module to change WeChat settings (e.g. a shorter passive window)."""
    return {}


@pytest.fixture
async def wechat_app(
    sqlite_url: str, fake_wechat: FakeWeChat, slow_engine: SlowEngine, wechat_overrides: dict[str, Any]
) -> AsyncIterator[WeChatApp]:
    async for app in _app(sqlite_url, fake_wechat, slow_engine, wechat_overrides):
        yield app


async def _app(
    database_url: str, fake: FakeWeChat, engine: SlowEngine, overrides: dict[str, Any]
) -> AsyncIterator[WeChatApp]:
    from bot.app import create_app

    runtime = make_runtime(database_url, engine, wechat=wechat_settings(fake, **overrides))
    app = create_app(runtime.settings, runtime)
    assert "wechat" in runtime.channels, "the WeChat channel was not mounted"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            yield WeChatApp(client, runtime, fake, engine)


@pytest.fixture
async def wechat_app_any_db(
    database_url: str, fake_wechat: FakeWeChat, slow_engine: SlowEngine
) -> AsyncIterator[WeChatApp]:
    """The same app on SQLite and on the real PostgreSQL."""
    async for app in _app(database_url, fake_wechat, slow_engine, {}):
        yield app
