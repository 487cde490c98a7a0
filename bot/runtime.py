"""The composition root: builds the core services from settings (no web framework here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import OutboundChannel
from bot.core.conversation import ConversationService
from bot.core.engine import RasaEngine
from bot.core.events import EventBus, InProcessEventBus
from bot.core.locks import InProcessKeyedLock, KeyedLock
from bot.core.outbox import OutboxDispatcher
from bot.handoff.attachments import CaseAttachmentStore
from bot.settings import Settings
from bot.storage.database import Database


@dataclass
class Runtime:
    """Everything a running application shares: one per process."""

    settings: Settings
    database: Database
    engine: RasaEngine
    events: EventBus
    locks: KeyedLock
    conversations: ConversationService
    outbox: OutboxDispatcher
    channels: dict[str, OutboundChannel] = field(default_factory=dict)
    # Long-running jobs started with the application (polling, workers), by name.
    background_jobs: dict[str, Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=dict)
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.engine.aclose()
        await self.database.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Wire storage, the Rasa client, events, locks and the conversation service."""
    database = Database(settings.database_url, echo=settings.database.echo)
    engine = RasaEngine(settings.rasa.url, settings.rasa_token.get_secret_value(), settings.rasa.timeout_seconds)
    events: EventBus = InProcessEventBus()
    locks: KeyedLock = InProcessKeyedLock()
    conversations = ConversationService(
        database, engine, events, locks, tuple(settings.languages), settings.default_language
    )
    conversations.attachments = CaseAttachmentStore(database, settings.attachments_max_bytes)
    conversations.attachment_limit_bytes = settings.attachments_max_bytes
    channels: dict[str, OutboundChannel] = {}
    outbox = OutboxDispatcher(database, channels)
    return Runtime(settings, database, engine, events, locks, conversations, outbox, channels)
