"""Messages that do not come from the dialogue engine: coordinator replies and late answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.core.conversation import publish_message
from bot.core.events import EventBus
from bot.core.messages import OutboundMessage
from bot.core.outbox import OutboxDispatcher, enqueue
from bot.storage.conversations import outbound_row
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, Message


async def send_to_patient(
    database: Database,
    events: EventBus,
    outbox: OutboxDispatcher,
    conversation_id: int,
    reply: OutboundMessage,
    author: Author = Author.COORDINATOR,
) -> Message:
    """Store ``reply`` in the conversation, queue it on the patient's own channel, and announce it."""
    async with database.session() as session:
        query = select(Conversation).where(Conversation.id == conversation_id).options(
            selectinload(Conversation.patient)
        )
        conversation = (await session.execute(query)).scalar_one()
        patient = conversation.patient
        message = outbound_row(conversation.id, patient.channel, reply, author, None, patient.language)
        session.add(message)
        enqueue(session, message)
        await session.flush()
    outbox.wake()
    await publish_message(events, conversation_id, message.id, author, reply.text, reply.custom)
    return message
