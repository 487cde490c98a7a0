"""WeChat official-account channel: turns verified WeChat messages into core turns and sends replies.

The 5-second rule: WeChat waits 5 s for the HTTP answer and retries three times. Each message's
turn runs as a task; if it finishes within ``passive_reply_seconds`` and fits one message, the answer
goes back as the passive XML reply. Otherwise WeChat gets ``success`` at once and the turn's stored
replies are queued in the persistent outbox, which sends them through the customer-service API.
The decision is taken once per message (``turn:<id>`` in the shared state): a retry while the turn
runs waits for that decision, a retry after a passive answer gets the same text again (WeChat
retries only when it did not receive it), and a retry after the customer-service path gets
``success``. The core also deduplicates on ``external_message_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.channels import wechat_inbound
from bot.channels.base import DeliveryError
from bot.channels.wechat_client import WeChatApi
from bot.channels.wechat_inbound import ChannelReply, CoreTurn
from bot.channels.wechat_render import (
    MAX_MESSAGE_BYTES,
    choose_option,
    offered_options,
    render_message,
    render_turn,
    split_text,
    utf8_len,
)
from bot.channels.wechat_state import StateStore
from bot.core.conversation import ConversationService
from bot.core.messages import Attachment, InboundMessage, OutboundMessage
from bot.core.outbox import OutboxDispatcher, enqueue
from bot.i18n import N_, t
from bot.storage.conversations import find_by_external_id
from bot.storage.database import Database
from bot.storage.models import Direction, Message, OutboxItem, Patient

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
TURN_TTL_SECONDS = 300  # WeChat retries within 15 s; later copies are replays the core ignores
OPTIONS_TTL_SECONDS = 7 * 24 * 3600
LATE_RETRIES = 3
LATE_RETRY_SECONDS = 2.0
IMAGE_FAILED = N_("Sorry, I could not receive your image. Please send it again.")
IMAGE_SUFFIXES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


@dataclass
class _Answer:
    replies: list[OutboundMessage]
    duplicate: bool = False
    stored: bool = True  # False: a channel apology that is not in the conversation


@dataclass
class _Flight:
    """A turn in progress in this process; retries of the same message wait for its decision."""

    decided: asyncio.Event = field(default_factory=asyncio.Event)
    text: str | None = None

    def settle(self, text: str | None) -> None:
        self.text = text
        self.decided.set()

    async def outcome(self, wait_seconds: float) -> str | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.decided.wait(), wait_seconds)
        return self.text if self.decided.is_set() else None


class WeChatChannel:
    """Inbound turns (passive or deferred answers) and outbound delivery for the WeChat channel."""

    name = CHANNEL

    def __init__(
        self,
        conversations: ConversationService,
        database: Database,
        outbox: OutboxDispatcher,
        api: WeChatApi,
        state: StateStore,
        *,
        passive_seconds: float,
        default_language: str,
        menu_keys: frozenset[str],
        max_attachment_bytes: int,
    ) -> None:
        self._conversations = conversations
        self._db = database
        self._outbox = outbox
        self._api = api
        self._state = state
        self._passive_seconds = passive_seconds
        self._default_language = default_language
        self._menu_keys = menu_keys
        self._max_attachment_bytes = max_attachment_bytes
        self._inflight: dict[str, _Flight] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # Outbound -----------------------------------------------------------------------------------

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        """Send one stored reply through the customer-service API, split under the text limit."""
        text = render_message(message)
        for piece in split_text(text):
            await self._api.send_text(external_user_id, piece)
        if message.buttons:
            await self._remember_options(external_user_id, [message])

    # Inbound ------------------------------------------------------------------------------------

    def classify(self, fields: dict[str, str]) -> CoreTurn | ChannelReply | None:
        """What to do with a message: a core turn, a channel reply, or nothing (``success``)."""
        return wechat_inbound.classify(fields, self._default_language, self._menu_keys)

    async def respond(self, fields: dict[str, str], arrived: float | None = None) -> str | None:
        """The passive reply text for a verified message, or None to answer ``success``.

        ``arrived`` (``time.monotonic()`` when the request came in) makes the passive window count
        from the request's arrival rather than from the start of the turn.
        """
        action = self.classify(fields)
        if action is None:
            return None
        if isinstance(action, ChannelReply):
            language = await self._known_language(action.openid)
            return "\n\n".join(t(language, msgid) for msgid in action.msgids)
        return await self._answer(action, time.monotonic() if arrived is None else arrived)

    async def _answer(self, turn: CoreTurn, arrived: float) -> str | None:
        flight = self._inflight.get(turn.ext_id)
        if flight is not None:
            return await flight.outcome(self._passive_seconds)
        key = f"turn:{turn.ext_id}"
        if not await self._state.add(key, {"state": "running"}, TURN_TTL_SECONDS):
            record = await self._state.get(key)
            if isinstance(record, dict) and record.get("state") == "passive":
                return str(record.get("text") or "") or None
            return None  # running in another worker, or delivered by the customer-service API
        flight = _Flight()
        self._inflight[turn.ext_id] = flight
        task = asyncio.create_task(self._run_turn(turn), name=f"wechat-turn-{turn.ext_id}")
        self._keep(task)
        try:
            remaining = self._passive_seconds - (time.monotonic() - arrived)
            await asyncio.wait({task}, timeout=max(0.0, remaining))
        except asyncio.CancelledError:
            # WeChat hung up: the turn still runs and its answer goes out by the customer-service API.
            if not task.done():
                self._defer(key, flight, turn, task)
            raise
        if not task.done():
            self._defer(key, flight, turn, task)
            return None
        return await self._decide(key, flight, turn, task)

    async def _decide(self, key: str, flight: _Flight, turn: CoreTurn, task: asyncio.Task[_Answer]) -> str | None:
        """The turn finished within the window: passive reply if it fits one message."""
        error = task.exception()
        if error is not None:
            # Nothing was answered: forget the claim so WeChat's retry runs the turn again.
            self._inflight.pop(turn.ext_id, None)
            await self._state.delete(key)
            flight.settle(None)
            raise error
        answer = task.result()
        text = render_turn(answer.replies)
        if answer.duplicate or not text:
            flight.settle(None)
            self._record(key, {"state": "done"}, turn.ext_id)
            return None
        if utf8_len(text) <= MAX_MESSAGE_BYTES:
            flight.settle(text)
            # Recorded after answering: only a retry from another worker needs it, seconds later.
            self._record(key, {"state": "passive", "text": text}, turn.ext_id)
            return text
        flight.settle(None)
        self._record(key, {"state": "cs"}, turn.ext_id)
        self._keep(asyncio.get_running_loop().create_task(self._send_late(turn, answer)))
        return None

    def _defer(self, key: str, flight: _Flight, turn: CoreTurn, task: asyncio.Task[_Answer]) -> None:
        """Past the passive window: answer ``success`` now, deliver by the customer-service API later.

        Nothing is awaited here, so a busy database cannot push the HTTP answer past WeChat's 5 s.
        """
        flight.settle(None)
        self._record(key, {"state": "cs"})

        def finished(done: asyncio.Task[_Answer]) -> None:
            self._inflight.pop(turn.ext_id, None)
            if done.cancelled():
                return
            if done.exception() is not None:
                # WeChat already got "success" and will not retry: retry the turn ourselves.
                logger.warning("WeChat turn failed after the passive window: %s", type(done.exception()).__name__)
                self._keep(asyncio.get_running_loop().create_task(self._retry_turn(turn)))
                return
            self._keep(asyncio.get_running_loop().create_task(self._send_late(turn, done.result())))

        task.add_done_callback(finished)

    async def _retry_turn(self, turn: CoreTurn) -> None:
        """Run a deferred turn again after a transient failure (the core re-answers an unhandled message)."""
        for attempt in range(1, LATE_RETRIES + 1):
            await asyncio.sleep(LATE_RETRY_SECONDS * attempt)
            try:
                answer = await self._run_turn(turn)
            except Exception as exc:
                logger.warning("WeChat turn retry %d failed: %s", attempt, type(exc).__name__)
                continue
            await self._send_late(turn, answer)
            return
        logger.error("WeChat turn %s abandoned after %d retries", turn.ext_id, LATE_RETRIES)

    async def _run_turn(self, turn: CoreTurn) -> _Answer:
        attachments: tuple[Attachment, ...] = ()
        text = turn.text
        if turn.media_id is not None:
            try:
                data, content_type = await self._api.download_media(turn.media_id, self._max_attachment_bytes)
            except DeliveryError as exc:
                logger.warning("WeChat image download failed: %s", exc)
                language = await self._known_language(turn.openid)
                return _Answer([OutboundMessage(text=t(language, IMAGE_FAILED))], stored=False)
            suffix = IMAGE_SUFFIXES.get(content_type, "bin")
            attachments = (Attachment(f"wechat-image-{turn.ext_id}.{suffix}", content_type, data),)
        else:
            text = await self._map_option(turn.openid, text)
        inbound = InboundMessage(
            channel=CHANNEL,
            external_user_id=turn.openid,
            text=text,
            external_message_id=turn.ext_id,
            language_hint=turn.language_hint,
            attachments=attachments,
        )
        result = await self._conversations.handle(inbound)
        if not result.duplicate:
            await self._remember_options(turn.openid, result.replies)
        return _Answer(result.replies, duplicate=result.duplicate)

    async def _send_late(self, turn: CoreTurn, answer: _Answer) -> None:
        """Queue the turn's stored replies in the outbox (channel apologies are sent directly)."""
        if answer.duplicate or not answer.replies:
            return
        if not answer.stored:
            for reply in answer.replies:
                try:
                    await self.deliver(turn.openid, reply)
                except DeliveryError as exc:
                    logger.warning("WeChat apology not delivered: %s", exc)
            return
        async with self._db.session() as session:
            inbound = await find_by_external_id(session, CHANNEL, turn.ext_id)
            if inbound is None:
                return
            query = select(Message).where(
                Message.reply_to_id == inbound.id, Message.direction == Direction.OUTBOUND
            ).order_by(Message.id)
            rows = list((await session.execute(query)).scalars())
            ids = [row.id for row in rows]
            queued = set((await session.execute(
                select(OutboxItem.message_id).where(OutboxItem.message_id.in_(ids))
            )).scalars()) if ids else set()
            for row in rows:
                if row.id not in queued:
                    enqueue(session, row)
        self._outbox.wake()

    # Options and language -----------------------------------------------------------------------

    async def _map_option(self, openid: str, text: str) -> str:
        """A numeric reply to offered options becomes the option's payload."""
        if len(text.strip()) > 4:
            return text
        options = await self._state.get(f"options:{openid}")
        if not isinstance(options, list):
            return text
        return choose_option(text, options) or text

    async def _remember_options(self, openid: str, replies: list[OutboundMessage]) -> None:
        options = offered_options(replies)
        if options:
            await self._state.put(f"options:{openid}", [b.as_dict() for b in options], OPTIONS_TTL_SECONDS)
        else:
            await self._state.delete(f"options:{openid}")

    async def _known_language(self, openid: str) -> str:
        """The patient's remembered language; WeChat tells us none, so the channel default otherwise."""
        query = select(Patient.language).where(Patient.channel == CHANNEL, Patient.external_id == openid)
        async with self._db.session() as session:
            language = (await session.execute(query)).scalar_one_or_none()
        return language or self._default_language

    def _record(self, key: str, value: dict[str, Any], ext_id: str | None = None) -> None:
        """Store a turn decision in the background (logged, never raised).

        Until it is stored, this process's in-flight entry ``ext_id`` keeps answering retries.
        """

        async def put() -> None:
            try:
                await self._state.put(key, value, TURN_TTL_SECONDS)
            except Exception:
                logger.exception("could not record the WeChat turn decision")
            finally:
                if ext_id is not None:
                    self._inflight.pop(ext_id, None)

        self._keep(asyncio.get_running_loop().create_task(put()))

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        """Let running turns finish briefly at shutdown (their replies are stored by the core)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=5.0)
