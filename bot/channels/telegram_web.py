"""Mounting the Telegram channel: the webhook route (production) or the polling job (development).

``POST /webhooks/telegram`` checks ``X-Telegram-Bot-Api-Secret-Token`` in constant time (403 and
nothing stored on a mismatch), refuses malformed JSON (400) and answers 200 only once the update
was processed, so Telegram redelivers an update the application could not handle (the core answers
a redelivered message once). The channel is also registered with the outbox, so coordinator
replies go through the same Bot.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from telegram import Update
from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.runtime import Runtime
from bot.storage.database import STORAGE_UNAVAILABLE

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY_BYTES = 1024 * 1024
POLL_ERROR_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Add the Telegram channel when a bot token is configured."""
    settings = runtime.settings.telegram
    if not settings.enabled:
        return
    channel = TelegramChannel(runtime)
    runtime.outbox.register(channel)
    runtime.shutdown_hooks.append(channel.aclose)
    app.state.telegram = channel
    if settings.mode == "webhook":
        assert settings.webhook_secret is not None  # the settings refuse webhook mode without one
        app.include_router(build_router(channel, settings.webhook_secret.get_secret_value()))
    else:
        runtime.background_jobs["telegram-polling"] = polling_job(channel, settings.polling_timeout_seconds)


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "detail": detail})


def build_router(channel: TelegramChannel, secret: str) -> APIRouter:
    """The webhook endpoint for ``channel``, guarded by ``secret``."""
    router = APIRouter()
    expected = secret.encode("utf-8")

    @router.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            return _error(403, "forbidden", "secret token mismatch")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "payload_too_large", f"body over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "invalid_json", "the body is not valid JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return _error(400, "invalid_update", "update_id: an integer is required")
        try:
            update = Update.de_json(data, channel.bot)
        except (KeyError, TypeError, ValueError) as exc:
            return _error(400, "invalid_update", f"not a Telegram update: {type(exc).__name__}")
        try:
            outcome = await channel.process(update)
        except STORAGE_UNAVAILABLE:
            logger.exception("database unavailable; Telegram will redeliver the update")
            return _error(503, "storage_unavailable", "try again shortly")
        except TelegramError as exc:
            logger.warning("Bot API error while processing an update: %s", type(exc).__name__)
            return _error(503, "telegram_unavailable", "try again shortly")
        logger.debug("telegram update %s: %s", update.update_id, outcome)
        return Response(status_code=200)

    return router


def polling_job(channel: TelegramChannel, timeout: int) -> Callable[[], Coroutine[Any, Any, None]]:
    """Long polling for development: getUpdates with an advancing offset, forever (cancel to stop)."""

    async def run() -> None:
        offset: int | None = None
        failures = 0
        started = False
        while True:
            try:
                if not started:
                    await channel.start()
                    await channel.bot.delete_webhook()  # getUpdates is refused while a webhook is set
                    started = True
                updates = await channel.bot.get_updates(
                    offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as exc:
                delay = POLL_ERROR_BACKOFF_SECONDS[min(failures, len(POLL_ERROR_BACKOFF_SECONDS) - 1)]
                failures += 1
                logger.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if not updates:
                continue
            await process_batch(channel, updates)
            # Confirmed with the next call: a crash before it means redelivery, which the core dedupes.
            offset = updates[-1].update_id + 1

    return run


async def process_batch(channel: TelegramChannel, updates: tuple[Update, ...]) -> None:
    """Chats in parallel, each chat's updates in order; one failing update does not stop the others.

    A failing update is logged and skipped (polling is the development mode; in webhook mode
    Telegram redelivers what failed).
    """
    by_chat: dict[int | None, list[Update]] = {}
    for update in updates:
        chat = update.effective_chat
        by_chat.setdefault(chat.id if chat is not None else None, []).append(update)

    async def in_order(chat_updates: list[Update]) -> None:
        for update in chat_updates:
            try:
                await channel.process(update)
            except Exception:
                logger.exception("telegram update %s failed", update.update_id)

    await asyncio.gather(*(in_order(chat_updates) for chat_updates in by_chat.values()))
