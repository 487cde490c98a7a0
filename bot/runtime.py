"""The composition root: builds the core services from settings (no web framework here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import OutboundChannel
from bot.core.conversation import ConversationService
from bot.core.engine import RasaEngine
from bot.core.events import EventBus, InProcessEventBus
from bot.core.locks import InProcessKeyedLock, KeyedLock
from bot.core.outbox import OutboxDispatcher
from bot.core.ratelimit import InProcessRateLimiter, RateLimiter, RedisRateLimiter
from bot.handoff.attachments import CaseAttachmentStore
from bot.settings import Settings
from bot.storage.database import Database

logger = logging.getLogger(__name__)


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
    engine = RasaEngine(
        settings.rasa.url, settings.rasa_token.get_secret_value(), settings.rasa.timeout_seconds,
        settings.rasa.max_in_flight,
    )
    events: EventBus
    locks: KeyedLock
    if settings.redis.url:
        from bot.core.redis_backends import RedisEventBus, RedisKeyedLock, redis_client

        redis = redis_client(settings.redis.url)
        events, locks = RedisEventBus(redis), RedisKeyedLock(redis)
        limiter: RateLimiter = RedisRateLimiter(redis, settings.rate_limit_per_minute)
    else:
        events, locks = InProcessEventBus(), InProcessKeyedLock()
        limiter = InProcessRateLimiter(settings.rate_limit_per_minute)
    conversations = ConversationService(
        database, engine, events, locks, tuple(settings.languages), settings.default_language, limiter
    )
    conversations.attachments = CaseAttachmentStore(database, settings.attachments_max_bytes)
    conversations.attachment_limit_bytes = settings.attachments_max_bytes
    channels: dict[str, OutboundChannel] = {}
    outbox = OutboxDispatcher(database, channels)
    runtime = Runtime(settings, database, engine, events, locks, conversations, outbox, channels)
    runtime.background_jobs["retry-kept-messages"] = lambda: retry_kept_messages(conversations)
    return runtime


async def retry_kept_messages(conversations: ConversationService, every_seconds: float = 5.0) -> None:
    """Answer, once the engine is back, the messages kept during an outage (runs with the app)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await conversations.retry_unhandled()
        except Exception:  # a database blip must not end the job
            logger.exception("retrying kept messages failed")
