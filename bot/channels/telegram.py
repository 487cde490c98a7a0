"""Telegram channel on python-telegram-bot: verify, parse, send — the conversation service does the rest.

One PTB ``Application`` per process gives the ``Bot`` (with ``AIORateLimiter`` for Telegram's
flood limits) used for everything: replies to turns, coordinator replies from the outbox, file
downloads, polling and the set-webhook command. ``base_url``/``base_file_url`` come from the
settings, so tests and benchmarks point the real library at a fake Bot API server.

Replies to a turn are sent at once, in order, while the chat's lock is held; whatever could not be
sent (network error, 429 flood control) goes to the persistent outbox with Telegram's
``retry_after``, so no reply is lost. "Bot was blocked by the user" marks the patient unreachable.
What each kind of update means is decided in ``telegram_updates`` (see its docstring).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from telegram import BotCommand, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.channels import telegram_store as store
from bot.channels.base import DeliveryError, RecipientUnreachable, TransientDeliveryError
from bot.channels.telegram_commands import card, menu
from bot.channels.telegram_render import inline_keyboard, long_payloads, split_text
from bot.channels.telegram_updates import (
    EXPIRED_BUTTON,
    FileRef,
    Ignored,
    Membership,
    Notice,
    Turn,
    parse_update,
)
from bot.core.conversation import CONSOLE_TOPIC, conversation_topic
from bot.core.language import normalize_hint
from bot.core.locks import SequencedKeyedLock
from bot.core.messages import Attachment, InboundMessage, OutboundMessage
from bot.handoff.attachments import TOO_LARGE
from bot.i18n import t
from bot.runtime import Runtime
from bot.settings import TelegramSettings
from bot.storage.models import Author

logger = logging.getLogger(__name__)

CHANNEL = store.CHANNEL
# Edits are ignored (see telegram_updates), so Telegram need not send them.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Notices (voice, stickers, refused files) are not stored by the core; remember the last ones
# answered so a redelivered update does not get a second notice from this process.
RECENT_NOTICES = 10_000

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: TelegramSettings, rate_limited: bool = True) -> TelegramApplication:
    """The PTB application (no updater: the webhook is ours, polling is our own loop)."""
    if settings.bot_token is None:
        raise ValueError("telegram.bot_token: set MC_TELEGRAM__BOT_TOKEN")
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .updater(None)
    )
    if rate_limited and settings.max_messages_per_second > 0:
        # max_retries=0: a 429 is raised to us and retried by the outbox after retry_after.
        limiter = AIORateLimiter(overall_max_rate=settings.max_messages_per_second, max_retries=0)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    return builder.build()


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB gives an int or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Map a Bot API error to the outbox's vocabulary."""
    if isinstance(exc, RetryAfter):
        return TransientDeliveryError("telegram flood control", retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return RecipientUnreachable(exc.message)
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            return RecipientUnreachable(exc.message)
        return DeliveryError(f"telegram refused the message: {exc.message}")
    if isinstance(exc, NetworkError):  # includes TimedOut
        return TransientDeliveryError(f"telegram network error: {type(exc).__name__}")
    return TransientDeliveryError(f"telegram error: {type(exc).__name__}")


async def register_commands(bot: Any, languages: list[str]) -> None:
    """The command menu: English by default, and localized for each supported language."""
    await bot.set_my_commands([BotCommand(name, text) for name, text in menu("en")])
    for language in languages:
        commands = [BotCommand(name, text) for name, text in menu(language)]
        await bot.set_my_commands(commands, language_code=language)


class TelegramChannel:
    """The Telegram channel: processes updates and delivers outbound messages (OutboundChannel)."""

    name = CHANNEL

    def __init__(self, runtime: Runtime, application: TelegramApplication | None = None) -> None:
        self._runtime = runtime
        self._settings = runtime.settings.telegram
        self.application = application or build_application(self._settings)
        self.bot = self.application.bot
        self._recent_notices: OrderedDict[str, None] = OrderedDict()
        self._started = False
        self._start_lock = asyncio.Lock()
        self._sequence = SequencedKeyedLock()

    async def start(self) -> None:
        """Initialize the bot (getMe) on first use; a failure is retried at the next use."""
        if self._started:
            return
        async with self._start_lock:
            if not self._started:
                await self.bot.initialize()
                self._started = True

    async def aclose(self) -> None:
        if self._started:
            await self.bot.shutdown()

    # Outbound -----------------------------------------------------------------------------------

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        """OutboundChannel: send one message (coordinator reply, retried reply) to a chat."""
        try:
            await self.start()
            await self._send(int(external_user_id), message)
        except TelegramError as exc:
            raise delivery_error(exc) from exc

    async def _send(self, chat_id: int, message: OutboundMessage) -> None:
        if message.text is None and not message.buttons:
            return  # machine-readable markers only: nothing for the patient to read
        if message.buttons:
            await store.save_payloads(self._runtime.database, long_payloads(message.buttons))
        chunks = split_text(message.text or "…")
        keyboard = inline_keyboard(message.buttons)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self.bot.send_message(chat_id, chunk, reply_markup=keyboard if last else None)

    # Inbound ------------------------------------------------------------------------------------

    async def process(self, update: Update) -> str:
        """Handle one update end to end; returns what happened (for logs and tests)."""
        parsed = parse_update(update, self._settings.max_attachment_bytes)
        if isinstance(parsed, Ignored):
            return f"ignored: {parsed.reason}"
        if isinstance(parsed, Membership):
            reason = "bot was blocked by the user" if parsed.blocked else None
            await store.set_unreachable(self._runtime.database, parsed.chat_id, reason)
            return "blocked" if parsed.blocked else "unblocked"
        await self.start()
        # One chat's updates are answered strictly one after another, replies included: in this
        # worker by update_id (concurrent webhook connections may reorder them slightly), and across
        # workers through the shared lock.
        key = f"telegram-chat:{parsed.chat_id}"
        async with self._sequence.hold(key, update.update_id), self._runtime.locks.hold(key):
            if isinstance(parsed, Notice):
                return await self._notice(parsed)
            return await self._turn(parsed)

    async def _turn(self, turn: Turn) -> str:
        text = turn.text
        if turn.callback is not None and turn.callback.key is not None:
            stored = await store.load_payload(self._runtime.database, turn.callback.key)
            if stored is None:
                return await self._notice(
                    Notice(turn.chat_id, turn.message_key, EXPIRED_BUTTON, turn.language_hint,
                           callback_query_id=turn.callback_query_id)
                )
            text = stored
        attachments: list[Attachment] = []
        for ref in turn.files:
            attachment = await self._download(ref)
            if attachment is None:
                limit = (("limit_mb", self._settings.max_attachment_bytes // (1024 * 1024)),)
                return await self._notice(Notice(turn.chat_id, turn.message_key, TOO_LARGE, turn.language_hint, limit))
            attachments.append(attachment)
        inbound = InboundMessage(
            channel=CHANNEL,
            external_user_id=str(turn.chat_id),
            text=text,
            external_message_id=turn.message_key,
            language_hint=turn.language_hint,
            attachments=tuple(attachments),
        )
        result = await self._runtime.conversations.handle(inbound)
        if result.duplicate:
            return "duplicate"
        if turn.callback_query_id is not None:
            await self._answer_callback(turn.callback_query_id)
        replies = list(result.replies)
        if turn.command is not None and turn.command.card is not None:
            extra = card(turn.command.card, result.language)
            await self._append(turn.message_key, [extra], result.language)
            replies.append(extra)
        return await self._send_replies(turn.chat_id, turn.message_key, replies)

    async def _send_replies(self, chat_id: int, message_key: str, replies: list[OutboundMessage]) -> str:
        for index, reply in enumerate(replies):
            try:
                await self._send(chat_id, reply)
            except TelegramError as exc:
                error = delivery_error(exc)
                if isinstance(error, RecipientUnreachable):
                    await store.set_unreachable(self._runtime.database, chat_id, str(error))
                    return "unreachable"
                if isinstance(error, TransientDeliveryError):
                    queued = await store.queue_undelivered(
                        self._runtime.database, message_key, len(replies), index, error.retry_after
                    )
                    logger.warning("telegram send deferred to the outbox (%d replies): %s", queued, error)
                    return "queued"
                logger.error("telegram refused a reply: %s", error)
        return "answered"

    async def _notice(self, notice: Notice) -> str:
        if notice.message_key in self._recent_notices:
            return "duplicate"
        remembered = await store.patient_language(self._runtime.database, notice.chat_id)
        settings = self._runtime.settings
        language = (
            remembered or normalize_hint(notice.language_hint, tuple(settings.languages)) or settings.default_language
        )
        if notice.callback_query_id is not None:
            await self._answer_callback(notice.callback_query_id)
        try:
            await self.bot.send_message(notice.chat_id, t(language, notice.msgid, **dict(notice.params)))
        except TelegramError as exc:
            error = delivery_error(exc)
            if isinstance(error, RecipientUnreachable):
                await store.set_unreachable(self._runtime.database, notice.chat_id, str(error))
                return "unreachable"
            raise
        self._recent_notices[notice.message_key] = None
        while len(self._recent_notices) > RECENT_NOTICES:
            self._recent_notices.popitem(last=False)
        return "notice"

    async def _answer_callback(self, callback_query_id: str) -> None:
        """Stop the button's spinner; a failure here must not cost the patient the answer."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as exc:
            logger.info("could not answer a callback query: %s", type(exc).__name__)

    async def _download(self, ref: FileRef) -> Attachment | None:
        """The file's bytes through the Bot API; None when it is over the size limit."""
        try:
            file = await self.bot.get_file(ref.file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                return None
            raise
        if file.file_size is not None and file.file_size > self._settings.max_attachment_bytes:
            return None
        data = bytes(await file.download_as_bytearray())
        if len(data) > self._settings.max_attachment_bytes:
            return None
        return Attachment(filename=ref.filename, content_type=ref.content_type, data=data)

    async def _append(self, message_key: str, replies: list[OutboundMessage], language: str) -> None:
        """Store the channel's own replies in the transcript and announce them like the core does."""
        stored = await store.append_replies(self._runtime.database, message_key, replies, language)
        for (conversation_id, row_id), reply in zip(stored, replies, strict=False):
            event = {
                "type": "message",
                "conversation_id": conversation_id,
                "message_id": row_id,
                "author": Author.BOT.value,
                "text": reply.text,
                "custom": reply.custom,
            }
            await self._runtime.events.publish(conversation_topic(conversation_id), event)
            await self._runtime.events.publish(CONSOLE_TOPIC, event)
