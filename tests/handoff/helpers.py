"""Shared setup for handoff tests: a patient with a conversation, and coordinators."""

from __future__ import annotations

from bot.core.messages import InboundMessage
from bot.handoff.models import Coordinator, Role
from bot.storage.conversations import record_inbound
from bot.storage.database import Database


async def make_patient(database: Database, external_id: str = "p1", text: str = "hello",
                       channel: str = "rest", language: str = "en") -> tuple[int, int, str]:
    """A patient who wrote one message; returns (patient id, conversation id, Rasa sender id)."""
    async with database.session() as session:
        stored = await record_inbound(session, InboundMessage(channel, external_id, text))
        stored.patient.language = language
        return stored.patient.id, stored.conversation.id, stored.patient.sender_id


async def make_coordinator(database: Database, email: str, role: Role = Role.COORDINATOR) -> int:
    async with database.session() as session:
        coordinator = Coordinator(email=email, display_name=email.split("@")[0], password_hash="x", role=role)
        session.add(coordinator)
        await session.flush()
        return coordinator.id
