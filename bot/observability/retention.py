"""Retention: closed cases and their transcripts are deleted a configurable number of days after closing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from bot.handoff.audit import record
from bot.handoff.models import Case, CaseStatus
from bot.storage.database import Database
from bot.storage.models import Message, utcnow

logger = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    """Counts only: what a retention pass deleted."""

    cases: int = 0
    messages: int = 0


async def purge_closed_cases(database: Database, days: int) -> RetentionReport:
    """Delete cases closed more than ``days`` ago (notes and attachments with them) and the messages of
    their conversation up to the closing time. Each deletion leaves an audit entry with the case number."""
    cutoff = utcnow() - timedelta(days=days)
    report = RetentionReport()
    async with database.session() as session:
        query = select(Case).where(Case.status == CaseStatus.CLOSED, Case.closed_at.is_not(None),
                                   Case.closed_at < cutoff)
        for case in (await session.execute(query)).scalars():
            closed_at = case.closed_at
            assert closed_at is not None
            count = (await session.execute(
                select(func.count()).select_from(Message).where(
                    Message.conversation_id == case.conversation_id, Message.created_at <= closed_at)
            )).scalar_one()
            await session.execute(
                delete(Message).where(Message.conversation_id == case.conversation_id,
                                      Message.created_at <= closed_at)
            )
            record(session, "retention_deleted", case_number=case.number,
                   details={"messages": int(count), "retention_days": days})
            await session.delete(case)
            report.cases += 1
            report.messages += int(count)
    return report


async def retention_job(database: Database, days: int, every_seconds: float = 24 * 3600) -> None:
    """Run a retention pass once a day while the application runs."""
    while True:
        try:
            report = await purge_closed_cases(database, days)
            if report.cases:
                logger.info("retention removed closed cases", extra={"cases": report.cases,
                                                                      "messages": report.messages})
        except Exception:  # retried at the next pass
            logger.exception("retention pass failed")
        await asyncio.sleep(every_seconds)
