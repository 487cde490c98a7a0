"""Repository of patients, conversations and messages used by the conversation core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Button, InboundMessage, OutboundMessage
from bot.storage.models import Author, Conversation, Direction, Message, Patient, utcnow


@dataclass(frozen=True)
class StoredInbound:
    """The result of recording an inbound message."""

    patient: Patient
    conversation: Conversation
    message: Message
    duplicate: bool


async def get_or_create_patient(session: AsyncSession, channel: str, external_id: str) -> Patient:
    """The patient of (channel, external id), created on first contact (race-safe)."""
    query = select(Patient).where(Patient.channel == channel, Patient.external_id == external_id)
    patient = (await session.execute(query)).scalar_one_or_none()
    if patient is not None:
        return patient
    try:
        async with session.begin_nested():
            patient = Patient(channel=channel, external_id=external_id)
            session.add(patient)
            await session.flush()
    except IntegrityError:
        patient = (await session.execute(query)).scalar_one()
    return patient


async def get_or_create_conversation(session: AsyncSession, patient: Patient) -> Conversation:
    query = select(Conversation).where(Conversation.patient_id == patient.id)
    conversation = (await session.execute(query)).scalar_one_or_none()
    if conversation is not None:
        return conversation
    try:
        async with session.begin_nested():
            conversation = Conversation(patient_id=patient.id)
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        conversation = (await session.execute(query)).scalar_one()
    return conversation


async def patient_and_conversation(
    session: AsyncSession, channel: str, external_id: str
) -> tuple[Patient, Conversation]:
    """The patient of (channel, external id) and their conversation: one query when both exist."""
    query = (
        select(Patient, Conversation)
        .join(Conversation, Conversation.patient_id == Patient.id)
        .where(Patient.channel == channel, Patient.external_id == external_id)
    )
    row = (await session.execute(query)).one_or_none()
    if row is not None:
        return row[0], row[1]
    patient = await get_or_create_patient(session, channel, external_id)
    return patient, await get_or_create_conversation(session, patient)


async def record_inbound(session: AsyncSession, inbound: InboundMessage) -> StoredInbound:
    """Store an inbound message once; a redelivery returns the first copy with ``duplicate=True``."""
    patient, conversation = await patient_and_conversation(session, inbound.channel, inbound.external_user_id)
    if inbound.external_message_id is not None:
        existing = await find_by_external_id(session, inbound.channel, inbound.external_message_id)
        if existing is not None:
            return StoredInbound(patient, conversation, existing, duplicate=True)
    message = Message(
        conversation_id=conversation.id,
        channel=inbound.channel,
        direction=Direction.INBOUND,
        author=Author.PATIENT,
        external_message_id=inbound.external_message_id,
        text=inbound.text,
    )
    if inbound.external_message_id is None:
        # Nothing to collide with (the unique key is the external id): no savepoint needed.
        session.add(message)
        await session.flush()
        patient.last_inbound_at = utcnow()
        return StoredInbound(patient, conversation, message, duplicate=False)
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        # A concurrent delivery of the same message won the insert.
        existing = await find_by_external_id(session, inbound.channel, inbound.external_message_id or "")
        if existing is None:
            raise
        return StoredInbound(patient, conversation, existing, duplicate=True)
    patient.last_inbound_at = utcnow()
    return StoredInbound(patient, conversation, message, duplicate=False)


async def find_by_external_id(session: AsyncSession, channel: str, external_id: str) -> Message | None:
    query = select(Message).where(Message.channel == channel, Message.external_message_id == external_id)
    return (await session.execute(query)).scalar_one_or_none()


async def replies_to(session: AsyncSession, inbound_id: int) -> list[OutboundMessage]:
    """The replies already stored for an inbound message, in order."""
    query = select(Message).where(Message.reply_to_id == inbound_id).order_by(Message.id)
    return [to_outbound(m) for m in (await session.execute(query)).scalars()]


def to_outbound(message: Message) -> OutboundMessage:
    buttons = [Button(title=b["title"], payload=b["payload"]) for b in message.buttons or []]
    return OutboundMessage(text=message.text, buttons=buttons, custom=dict(message.custom or {}))


def outbound_row(
    conversation_id: int, channel: str, reply: OutboundMessage, author: Author, reply_to_id: int | None,
    language: str | None,
) -> Message:
    """A stored outbound message for a reply."""
    custom: dict[str, Any] | None = reply.custom or None
    return Message(
        conversation_id=conversation_id,
        channel=channel,
        direction=Direction.OUTBOUND,
        author=author,
        reply_to_id=reply_to_id,
        text=reply.text,
        buttons=[b.as_dict() for b in reply.buttons] or None,
        custom=custom,
        language=language,
    )
