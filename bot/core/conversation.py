"""The conversation service: the one entry point every channel calls with a patient's message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.core.attachments import AttachmentStore
from bot.core.emergency import EMERGENCY_PAYLOAD, looks_like_emergency
from bot.core.engine import DialogueEngine, EngineUnavailable
from bot.core.events import EventBus
from bot.core.language import choose_language
from bot.core.locks import KeyedLock
from bot.core.messages import InboundMessage, OutboundMessage, TurnResult
from bot.i18n import t
from bot.storage.conversations import outbound_row, record_inbound, replies_to
from bot.storage.database import Database
from bot.storage.models import Author, ConversationMode, Message, utcnow

logger = logging.getLogger(__name__)

CONSOLE_TOPIC = "console"


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
    ) -> None:
        self._db = database
        self._engine = engine
        self._events = events
        self._locks = locks
        self._languages = languages
        self._default_language = default_language
        # Set by the handoff package: where patients' files go (their open case).
        self.attachments: AttachmentStore | None = None
        self.attachment_limit_bytes = 20 * 1024 * 1024

    async def handle(self, inbound: InboundMessage) -> TurnResult:
        """Answer one inbound message; a redelivered message gets its first answer back, not a new one."""
        async with self._locks.hold(f"{inbound.channel}:{inbound.external_user_id}"):
            turn, earlier = await self._record(inbound)
            if earlier is not None:
                return earlier
            return await self._answer(turn, inbound)

    async def _record(self, inbound: InboundMessage) -> tuple[_Turn, TurnResult | None]:
        async with self._db.session() as session:
            stored = await record_inbound(session, inbound)
            patient, conversation = stored.patient, stored.conversation
            if stored.duplicate and stored.message.handled_at is not None:
                replies = await replies_to(session, stored.message.id)
                result = TurnResult(replies, patient.id, conversation.id, patient.language or "en", duplicate=True)
                return _Turn(0, "", 0, conversation.mode, 0, ""), result
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
                patient.id, patient.sender_id, conversation.id, conversation.mode, stored.message.id, language
            )
        await self._publish_message(turn.conversation_id, turn.message_id, Author.PATIENT, inbound.text)
        return turn, None

    async def _answer(self, turn: _Turn, inbound: InboundMessage) -> TurnResult:
        if inbound.attachments:
            return await self._accept_attachments(turn, inbound)
        emergency = looks_like_emergency(inbound.text)
        if turn.mode is ConversationMode.HUMAN and not emergency:
            await self._store_replies(turn, inbound.channel, [])
            return TurnResult([], turn.patient_id, turn.conversation_id, turn.language)
        text = EMERGENCY_PAYLOAD if emergency else inbound.text
        metadata: dict[str, Any] = {"language": turn.language, "channel": inbound.channel}
        try:
            replies = await self._engine.respond(turn.sender_id, text, metadata)
        except EngineUnavailable as exc:
            logger.warning("dialogue engine unavailable: %s", exc, extra={"conversation_id": turn.conversation_id})
            apology = OutboundMessage(
                text=t(turn.language, "Sorry, I cannot answer right now. Your message is saved and "
                       "I will reply as soon as I can."),
                custom={"error": "engine_unavailable"},
            )
            await self._store_replies(turn, inbound.channel, [apology], handled=False)
            return TurnResult([apology], turn.patient_id, turn.conversation_id, turn.language)
        await self._store_replies(turn, inbound.channel, replies)
        return TurnResult(replies, turn.patient_id, turn.conversation_id, turn.language)

    async def _accept_attachments(self, turn: _Turn, inbound: InboundMessage) -> TurnResult:
        """Files go to the patient's open case; the patient is told what happened to each."""
        replies: list[OutboundMessage] = []
        for attachment in inbound.attachments:
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
        await self._store_replies(turn, inbound.channel, replies)
        return TurnResult(replies, turn.patient_id, turn.conversation_id, turn.language)

    async def _store_replies(
        self, turn: _Turn, channel: str, replies: list[OutboundMessage], handled: bool = True
    ) -> None:
        async with self._db.session() as session:
            rows = [
                outbound_row(turn.conversation_id, channel, reply, Author.BOT, turn.message_id, turn.language)
                for reply in replies
            ]
            session.add_all(rows)
            if handled:
                inbound = (await session.execute(select(Message).where(Message.id == turn.message_id))).scalar_one()
                inbound.handled_at = utcnow()
            await session.flush()
            ids = [row.id for row in rows]
        for row_id, reply in zip(ids, replies, strict=True):
            await self._publish_message(turn.conversation_id, row_id, Author.BOT, reply.text, reply.custom)

    async def _publish_message(
        self, conversation_id: int, message_id: int, author: Author, text: str | None,
        custom: dict[str, Any] | None = None,
    ) -> None:
        event = {
            "type": "message",
            "conversation_id": conversation_id,
            "message_id": message_id,
            "author": author.value,
            "text": text,
            "custom": custom or {},
        }
        await self._events.publish(conversation_topic(conversation_id), event)
        await self._events.publish(CONSOLE_TOPIC, event)
