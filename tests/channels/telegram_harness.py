"""Run the real application (FastAPI + uvicorn on a free loopback port) with the Telegram channel
pointed at the fake Bot API, and a scripted dialogue engine instead of Rasa."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from bot.app import create_app
from bot.channels.base import OutboundChannel
from bot.core.conversation import ConversationService
from bot.core.events import InProcessEventBus
from bot.core.locks import InProcessKeyedLock
from bot.core.outbox import OutboxDispatcher
from bot.handoff.attachments import CaseAttachmentStore
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.models import Message, Patient
from tests.channels.fake_telegram import FakeTelegram
from tests.conftest import ScriptedEngine

SECRET = "test-webhook-secret-0123456789"


class ClosableEngine(ScriptedEngine):
    """The scripted engine with the ``aclose`` the runtime calls at shutdown."""

    async def aclose(self) -> None:
        return None


def telegram_settings(database_url: str, fake: FakeTelegram, mode: str = "webhook", **telegram: Any) -> Settings:
    return Settings(
        environment="test",
        database={"url": database_url},
        telegram={
            "mode": mode,
            "bot_token": fake.token,
            "webhook_secret": SECRET,
            "base_url": fake.base_url,
            "base_file_url": fake.base_file_url,
            **telegram,
        },
    )


def scripted_runtime(settings: Settings, engine: ScriptedEngine) -> Runtime:
    """The runtime of bot.runtime.build_runtime, with the scripted engine and a quick outbox."""
    database = Database(settings.database_url)
    events = InProcessEventBus()
    locks = InProcessKeyedLock()
    conversations = ConversationService(
        database, engine, events, locks, tuple(settings.languages), settings.default_language
    )
    conversations.attachments = CaseAttachmentStore(database, settings.attachments_max_bytes)
    channels: dict[str, OutboundChannel] = {}
    outbox = OutboxDispatcher(database, channels, poll_seconds=0.1)
    return Runtime(settings, database, engine, events, locks, conversations, outbox, channels)  # type: ignore[arg-type]


@dataclass
class RunningApp:
    """The application under test and helpers to talk to it."""

    url: str
    runtime: Runtime
    engine: ScriptedEngine
    fake: FakeTelegram
    client: httpx.AsyncClient

    async def post(self, update: Any, secret: str | None = SECRET, raw: bytes | None = None) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if raw is not None:
            return await self.client.post("/webhooks/telegram", content=raw, headers=headers)
        return await self.client.post("/webhooks/telegram", json=update, headers=headers)

    async def count(self, model: Any, *where: Any) -> int:
        async with self.runtime.database.session() as session:
            return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    async def patient(self, chat_id: int) -> Patient | None:
        async with self.runtime.database.session() as session:
            query = select(Patient).where(Patient.channel == "telegram", Patient.external_id == str(chat_id))
            return (await session.execute(query)).scalar_one_or_none()

    async def messages(self) -> list[Message]:
        async with self.runtime.database.session() as session:
            return list((await session.execute(select(Message).order_by(Message.id))).scalars())


@asynccontextmanager
async def running_app(
    database_url: str, fake: FakeTelegram, engine: ScriptedEngine | None = None, mode: str = "webhook",
    **telegram: Any,
) -> AsyncIterator[RunningApp]:
    """Serve the app over real HTTP on a free port in this event loop (lifespan: outbox, jobs)."""
    settings = telegram_settings(database_url, fake, mode, **telegram)
    engine = engine or ClosableEngine()
    runtime = scripted_runtime(settings, engine)
    app = create_app(settings, runtime)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
        try:
            yield RunningApp(url, runtime, engine, fake, client)
        finally:
            server.should_exit = True
            await task
            sock.close()
