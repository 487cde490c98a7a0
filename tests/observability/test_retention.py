"""Retention deletes closed cases past the period (with their transcript) and nothing else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.messages import InboundMessage
from bot.handoff.models import AuditEvent, Case, CaseStatus, CaseTrigger
from bot.observability.retention import purge_closed_cases
from bot.storage.conversations import record_inbound
from bot.storage.database import Database
from bot.storage.models import Message, utcnow


async def _case(database: Database, who: str, status: CaseStatus, closed_days_ago: int | None) -> None:
    async with database.session() as session:
        stored = await record_inbound(session, InboundMessage("rest", who, "my records are attached"))
        closed_at = utcnow() - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
        session.add(Case(
            number=f"MC-2026-{who}", patient_id=stored.patient.id, conversation_id=stored.conversation.id,
            channel="rest", language="en", status=status, trigger=CaseTrigger.REQUEST_HUMAN,
            sla_due_at=utcnow(), closed_at=closed_at, labels=[],
        ))
    if closed_at is not None:  # the transcript predates the closing
        async with database.session() as session:
            message = (await session.execute(select(Message).where(Message.text == "my records are attached")
                                             .order_by(Message.id.desc()))).scalars().first()
            assert message is not None
            message.created_at = closed_at - timedelta(hours=1)


async def test_only_cases_closed_before_the_period_are_deleted(database: Database) -> None:
    await _case(database, "old", CaseStatus.CLOSED, closed_days_ago=400)
    await _case(database, "recent", CaseStatus.CLOSED, closed_days_ago=3)
    await _case(database, "open", CaseStatus.OPEN, closed_days_ago=None)
    report = await purge_closed_cases(database, days=365)
    assert (report.cases, report.messages) == (1, 1)
    async with database.session() as session:
        numbers = sorted(n for n in (await session.execute(select(Case.number))).scalars())
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
        audit = (await session.execute(select(AuditEvent).where(AuditEvent.action == "retention_deleted"))
                 ).scalar_one()
    assert numbers == ["MC-2026-open", "MC-2026-recent"]
    assert messages == 2
    assert audit.case_number == "MC-2026-old" and "records" not in str(audit.details)
