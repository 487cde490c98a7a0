"""What the Telegram channel keeps in the database beyond the core's own rows.

Long button payloads (behind short callback keys), the patient's reachability as Telegram reports
it, the channel's own additions to a turn (the ``/start`` card), and replies that could not be
sent right away, handed to the persistent outbox.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.telegram_models import TelegramCallbackPayload
from bot.channels.telegram_render import payload_key
from bot.core.messages import OutboundMessage
from bot.core.outbox import enqueue
from bot.storage.conversations import find_by_external_id, outbound_row
from bot.storage.database import Database
from bot.storage.models import Author, Message, Patient, utcnow

CHANNEL = "telegram"


async def save_payloads(database: Database, payloads: list[str]) -> None:
    """Store each long payload under its key (idempotent: the key is the payload's hash)."""
    for payload in dict.fromkeys(payloads):
        key = payload_key(payload)
        async with database.session() as session:
            if await session.get(TelegramCallbackPayload, key) is not None:
                continue
            try:
                async with session.begin_nested():
                    session.add(TelegramCallbackPayload(key=key, payload=payload))
            except IntegrityError:
                pass  # a concurrent send stored the same payload first


async def load_payload(database: Database, key: str) -> str | None:
    async with database.session() as session:
        row = await session.get(TelegramCallbackPayload, key)
        return row.payload if row is not None else None


async def patient_language(database: Database, chat_id: int) -> str | None:
    """The language remembered for this chat's patient, if we know the patient."""
    async with database.session() as session:
        query = select(Patient.language).where(Patient.channel == CHANNEL, Patient.external_id == str(chat_id))
        return (await session.execute(query)).scalar_one_or_none()


async def set_unreachable(database: Database, chat_id: int, reason: str | None) -> None:
    """Record (or clear, with None) why this chat's patient cannot be reached; the console shows it."""
    async with database.session() as session:
        await session.execute(
            update(Patient)
            .where(Patient.channel == CHANNEL, Patient.external_id == str(chat_id))
            .values(unreachable_reason=reason[:200] if reason else None)
        )


async def append_replies(
    database: Database, message_key: str, replies: list[OutboundMessage], language: str
) -> list[tuple[int, int]]:
    """Store the channel's own replies to an inbound message; returns (conversation id, row id) pairs."""
    async with database.session() as session:
        inbound = await find_by_external_id(session, CHANNEL, message_key)
        if inbound is None:
            return []
        rows = [
            outbound_row(inbound.conversation_id, CHANNEL, reply, Author.BOT, inbound.id, language)
            for reply in replies
        ]
        session.add_all(rows)
        await session.flush()
        return [(row.conversation_id, row.id) for row in rows]


async def queue_undelivered(
    database: Database, message_key: str, sent_total: int, first_unsent: int, retry_after: float | None
) -> int:
    """Hand the replies to ``message_key`` from index ``first_unsent`` on to the outbox; return how many.

    ``sent_total`` is how many replies this turn produced: they are the newest rows replying to the
    message (an earlier unanswered attempt may have left an apology before them). They are due
    together after ``retry_after`` so that the outbox (which works in id order) delivers them in
    the order the patient should read them.
    """
    async with database.session() as session:
        inbound = await find_by_external_id(session, CHANNEL, message_key)
        if inbound is None:
            return 0
        query = select(Message).where(Message.reply_to_id == inbound.id).order_by(Message.id)
        rows = list((await session.execute(query)).scalars())
        rows = rows[max(len(rows) - sent_total, 0):][first_unsent:]
        due = utcnow() + timedelta(seconds=retry_after or 0)
        for row in rows:
            enqueue(session, row).next_attempt_at = due
        return len(rows)
