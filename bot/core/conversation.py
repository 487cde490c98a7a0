"""The conversation service: the one entry point every channel calls with a patient's message."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from bot.core.attachments import AttachmentStore
from bot.core.emergency import EMERGENCY_PAYLOAD, looks_like_emergency
from bot.core.engine import DialogueEngine, EngineUnavailable
from bot.core.events import EventBus
from bot.core.language import choose_language
from bot.core.locks import KeyedLock
from bot.core.messages import InboundMessage, OutboundMessage, TurnResult
from bot.core.outbox import enqueue
from bot.core.ratelimit import RateLimiter
from bot.i18n import N_, t
from bot.observability import metrics
from bot.observability.logging import conversation_id as conversation_id_var
from bot.storage.conversations import outbound_row, record_inbound, replies_to
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, ConversationMode, Direction, Message, utcnow

logger = logging.getLogger(__name__)

CONSOLE_TOPIC = "console"
STATUS_PAYLOAD = "/ask_status"
# Commands a patient may use while a coordinator owns the conversation (the dialogue engine answers them).
COMMANDS_DURING_HANDOFF = frozenset({"/status", STATUS_PAYLOAD})
STATUS_CONFIDENCE = 0.6
APOLOGY = N_("Sorry, I cannot answer right now. Your message is saved and I will reply as soon as I can.")
SLOW_DOWN = N_("You are sending messages very quickly. Please wait a minute; I have saved your message.")


def conversation_topic(conversation_id: int) -> str:
    """Event topic of one conversation (web chat streams, case views)."""
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class _Turn:
    """What the core needs from storage to answer one inbound message."""

    patient_id: int
    sender_id: str
    conversation_id: int
    mode: ConversationMode
    message_id: int
    language: str
    channel: str
    text: str


class ConversationService:
    """Records a message, asks the dialogue engine (unless a human owns the conversation), records replies."""

    def __init__(
        self,
        database: Database,
        engine: DialogueEngine,
        events: EventBus,
        locks: KeyedLock,
        languages: tuple[str, ...],
        default_language: str,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._db = database
        self._engine = engine
        self._events = events
        self._locks = locks
        self._languages = languages
        self._default_language = default_language
        self._rate_limiter = rate_limiter
        # Set by the composition root: where patients' files go (their open case).
        self.attachments: AttachmentStore | None = None
        self.attachment_limit_bytes = 20 * 1024 * 1024

    async def handle(self, inbound: InboundMessage) -> TurnResult:
        """Answer one inbound message; a redelivered message gets its first answer back, not a new one."""
        started = time.perf_counter()
        async with self._locks.hold(f"{inbound.channel}:{inbound.external_user_id}"):
            turn = await self._record(inbound)
            if isinstance(turn, TurnResult):
                metrics.DUPLICATES.labels(inbound.channel).inc()
                return turn
            token = conversation_id_var.set(turn.conversation_id)
            try:
                result = await self._answer(turn, inbound.attachments, proactive=False)
                self._turn_done(inbound.channel, turn.mode, len(result.replies), time.perf_counter() - started)
            finally:
                conversation_id_var.reset(token)
        return result

    @staticmethod
    def _turn_done(channel: str, mode: ConversationMode, replies: int, elapsed: float) -> None:
        """Metrics and the turn's log line: ids, counts and timing, never the text (health data)."""
        metrics.TURNS.labels(channel).inc()
        metrics.TURN_LATENCY.labels(channel).observe(elapsed)
        logger.info(
            "turn answered",
            extra={"channel": channel, "mode": mode.value, "replies": replies, "duration_ms": round(elapsed * 1000, 1)},
        )

    async def retry_unhandled(self, older_than_seconds: float = 5.0, limit: int = 50) -> int:
        """Answer messages kept during an engine outage; the replies go out through the outbox."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        async with self._db.session() as session:
            query = (
                select(Message)
                .where(Message.direction == Direction.INBOUND, Message.handled_at.is_(None),
                       Message.created_at <= cutoff)
                .order_by(Message.id)
                .limit(limit)
                .options(selectinload(Message.conversation).selectinload(Conversation.patient))
            )
            pending = [(m.id, m.conversation.patient.channel, m.conversation.patient.external_id)
                       for m in (await session.execute(query)).scalars()]
        answered = 0
        for message_id, channel, external_id in pending:
            async with self._locks.hold(f"{channel}:{external_id}"):
                turn = await self._load_unhandled(message_id)
                if turn is None:
                    continue  # answered meanwhile (e.g. the patient's own retry)
                result = await self._answer(turn, (), proactive=True)
                answered += not any(r.custom.get("error") for r in result.replies)
        return answered

    async def _record(self, inbound: InboundMessage) -> _Turn | TurnResult:
        """Store the message; a redelivery of an answered message gives back its first result instead."""
        async with self._db.session() as session:
            stored = await record_inbound(session, inbound)
            patient, conversation = stored.patient, stored.conversation
            if stored.duplicate and stored.message.handled_at is not None:
                replies = await replies_to(session, stored.message.id)
                return TurnResult(replies, patient.id, conversation.id, patient.language or "en", duplicate=True)
            language = choose_language(
                inbound.text,
                inbound.language_hint,
                patient.language,
                patient.language_locked,
                self._languages,
                self._default_language,
            )
            patient.language = language
            if inbound.display_name and not patient.display_name:
                patient.display_name = inbound.display_name[:200]
            turn = _Turn(
                patient.id, patient.sender_id, conversation.id, conversation.mode, stored.message.id, language,
                inbound.channel, inbound.text,
            )
        await publish_message(self._events, turn.conversation_id, turn.message_id, Author.PATIENT, inbound.text)
        return turn

    async def _load_unhandled(self, message_id: int) -> _Turn | None:
        async with self._db.session() as session:
            query = select(Message).where(Message.id == message_id).options(
                selectinload(Message.conversation).selectinload(Conversation.patient)
            )
            message = (await session.execute(query)).scalar_one_or_none()
            if message is None or message.handled_at is not None:
                return None
            conversation, patient = message.conversation, message.conversation.patient
            return _Turn(
                patient.id, patient.sender_id, conversation.id, conversation.mode, message.id,
                patient.language or self._default_language, patient.channel, message.text or "",
            )

    async def _answer(self, turn: _Turn, attachments: tuple[Any, ...], proactive: bool) -> TurnResult:
        if attachments:
            return await self._accept_attachments(turn, attachments)
        emergency = looks_like_emergency(turn.text)
        text = EMERGENCY_PAYLOAD if emergency else turn.text
        if turn.mode is ConversationMode.HUMAN and not emergency:
            command = await self._command_during_handoff(turn.text)
            if command is None:
                await self._store_replies(turn, [], proactive)
                return self._result(turn, [])
            text = command
        if not emergency and not proactive and not await self._within_rate_limit(turn):
            metrics.RATE_LIMITED.labels(turn.channel).inc()
            reply = OutboundMessage(text=t(turn.language, SLOW_DOWN), custom={"rate_limited": True})
            await self._store_replies(turn, [reply], proactive)
            return self._result(turn, [reply])
        metadata: dict[str, Any] = {"language": turn.language, "channel": turn.channel}
        try:
            replies = await self._engine.respond(turn.sender_id, text, metadata)
        except EngineUnavailable as exc:
            metrics.ENGINE_ERRORS.labels(turn.channel).inc()
            logger.warning("dialogue engine unavailable: %s", exc)
            apology = OutboundMessage(text=t(turn.language, APOLOGY), custom={"error": "engine_unavailable"})
            if not proactive:
                await self._store_replies(turn, [apology], proactive, handled=False)
            return self._result(turn, [apology])
        metrics.observe_replies(turn.channel, [r.custom for r in replies])
        await self._store_replies(turn, replies, proactive)
        return self._result(turn, replies)

    async def _command_during_handoff(self, text: str) -> str | None:
        """While a human owns the conversation the bot stays silent, except for a /status request."""
        stripped = text.strip()
        if stripped.split("{", 1)[0] in COMMANDS_DURING_HANDOFF:
            return STATUS_PAYLOAD
        if stripped.startswith("/"):
            return None
        try:
            intent, confidence = await self._engine.intent_of(stripped)
        except EngineUnavailable:
            return None
        return STATUS_PAYLOAD if intent == "ask_status" and confidence >= STATUS_CONFIDENCE else None

    async def _within_rate_limit(self, turn: _Turn) -> bool:
        return self._rate_limiter is None or await self._rate_limiter.allow(f"{turn.channel}:{turn.patient_id}")

    @staticmethod
    def _result(turn: _Turn, replies: list[OutboundMessage]) -> TurnResult:
        return TurnResult(replies, turn.patient_id, turn.conversation_id, turn.language)

    async def _accept_attachments(self, turn: _Turn, attachments: tuple[Any, ...]) -> TurnResult:
        """Files go to the patient's open case; the patient is told what happened to each."""
        replies: list[OutboundMessage] = []
        for attachment in attachments:
            if self.attachments is None:
                text = t(turn.language, "Sorry, I cannot receive files here.")
                replies.append(OutboundMessage(text=text, custom={"attachment": "rejected"}))
                continue
            outcome = await self.attachments.store(turn.patient_id, attachment)
            if outcome.stored:
                text = t(turn.language, "Thank you, I added {filename} to your case.", filename=attachment.filename)
                replies.append(OutboundMessage(text=text, custom={"attachment": "stored"}))
            else:
                limit_mb = self.attachment_limit_bytes // (1024 * 1024)
                text = t(turn.language, outcome.reason or "Sorry, I cannot receive files here.", limit_mb=limit_mb)
                replies.append(OutboundMessage(text=text, custom={"attachment": "rejected"}))
        await self._store_replies(turn, replies, proactive=False)
        return self._result(turn, replies)

    async def _store_replies(
        self, turn: _Turn, replies: list[OutboundMessage], proactive: bool, handled: bool = True
    ) -> None:
        """Store the replies (queued on the patient's channel when nobody is waiting for them)."""
        async with self._db.session() as session:
            rows = [
                outbound_row(turn.conversation_id, turn.channel, reply, Author.BOT, turn.message_id, turn.language)
                for reply in replies
            ]
            session.add_all(rows)
            if proactive:
                for row in rows:
                    enqueue(session, row)
            if handled:
                mark = update(Message).where(Message.id == turn.message_id).values(handled_at=utcnow())
                await session.execute(mark.execution_options(synchronize_session=False))
            await session.flush()
            ids = [row.id for row in rows]
        for row_id, reply in zip(ids, replies, strict=True):
            await publish_message(self._events, turn.conversation_id, row_id, Author.BOT, reply.text, reply.custom)


async def publish_message(
    events: EventBus, conversation_id: int, message_id: int, author: Author, text: str | None,
    custom: dict[str, Any] | None = None,
) -> None:
    """Announce a stored message to its conversation's subscribers and to the consoles."""
    event = {
        "type": "message",
        "conversation_id": conversation_id,
        "message_id": message_id,
        "author": author.value,
        "text": text,
        "custom": custom or {},
    }
    await events.publish(conversation_topic(conversation_id), event)
    await events.publish(CONSOLE_TOPIC, event)
