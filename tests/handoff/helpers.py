"""Shared setup for handoff tests: a patient with a conversation, coordinators, a case, the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.messages import InboundMessage
from bot.handoff import cases
from bot.handoff.models import AuditEvent, Case, CaseTrigger, Coordinator, Role
from bot.settings import ConsoleSettings
from bot.storage.conversations import record_inbound
from bot.storage.database import Database

SLA = ConsoleSettings(sla_hours=24, urgent_sla_hours=1)


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


async def open_test_case(database: Database, patient_id: int, **kwargs: object) -> Case:
    """A case opened for the patient (a request for a human unless ``trigger`` says otherwise)."""
    async with database.session() as session:
        case, _created = await cases.open_case(
            session, patient_id, kwargs.pop("trigger", CaseTrigger.REQUEST_HUMAN), "en",  # type: ignore[arg-type]
            settings=SLA, **kwargs,  # type: ignore[arg-type]
        )
        return case


async def audit_events(database: Database) -> list[AuditEvent]:
    """The audit trail, oldest first."""
    async with database.session() as session:
        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())
