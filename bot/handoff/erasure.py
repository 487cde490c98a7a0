"""Erasure of one patient's data everywhere: application database, Rasa tracker (API and SQL store).

What goes: messages, outbox items, cases with their notes and attachments, unanswered questions,
the conversation, the patient row, and the Rasa conversation of the patient's sender id. What stays:
the audit log (it never holds health data) plus one ``patient_erased`` entry naming the case numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.audit import record
from bot.handoff.models import Case, CaseAttachment, CaseNote
from bot.storage.database import Database, install_sqlite_pragmas, sync_url
from bot.storage.models import Conversation, Message, OutboxItem, Patient, UnansweredQuestion

logger = logging.getLogger(__name__)

ForgetTracker = Callable[[str], Awaitable[None]]


class PatientNotFound(LookupError):
    """No patient matches the given channel and id (or case number)."""


@dataclass
class ErasureReport:
    """What an erasure removed (counts and case numbers only) and what could not be reached."""

    patient_id: int
    sender_id: str
    case_numbers: list[str] = field(default_factory=list)
    messages: int = 0
    attachments: int = 0
    notes: int = 0
    tracker_events: int = 0
    tracker_api_reset: bool = False
    redis_keys: int = 0
    problems: list[str] = field(default_factory=list)


async def find_patient_id(
    session: AsyncSession, *, channel: str | None = None, external_id: str | None = None,
    case_number: str | None = None,
) -> int:
    """The patient of (channel, external id) or of a case number; raises :class:`PatientNotFound`."""
    if case_number is not None:
        query = select(Case.patient_id).where(Case.number == case_number.strip().upper())
        label = f"case {case_number}"
    elif channel is not None and external_id is not None:
        query = select(Patient.id).where(Patient.channel == channel, Patient.external_id == external_id)
        label = f"patient {external_id!r} on channel {channel!r}"
    else:
        raise ValueError("give either a case number or a channel and an external id")
    patient_id = (await session.execute(query)).scalar_one_or_none()
    if patient_id is None:
        raise PatientNotFound(f"no {label}")
    return int(patient_id)


async def erase_patient(
    database: Database,
    patient_id: int,
    *,
    forget_tracker: ForgetTracker | None = None,
    tracker_store_url: str | None = None,
    redis_url: str | None = None,
    actor_id: int | None = None,
) -> ErasureReport:
    """Remove every row of one patient, reset and delete their Rasa tracker, and audit it.

    The database part is one transaction (all or nothing). The Rasa part is done twice on purpose:
    ``forget_tracker`` (``RasaEngine.forget``) resets the live tracker through Rasa's API, and the rows
    of the sender id are deleted from Rasa's SQL tracker store directly, so nothing remains even when
    Rasa is down (replacing a tracker through the API does not delete the stored events either).
    Failures of the Rasa part are listed in ``report.problems``, never raised.
    """
    async with database.session() as session:
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise PatientNotFound(f"no patient {patient_id}")
        report = ErasureReport(patient_id=patient.id, sender_id=patient.sender_id)
        channel, external_id = patient.channel, patient.external_id
        conversation_ids = list(
            (await session.execute(select(Conversation.id).where(Conversation.patient_id == patient_id))).scalars()
        )
        cases = list(await session.execute(select(Case.id, Case.number).where(Case.patient_id == patient_id)))
        case_ids = [row.id for row in cases]
        report.case_numbers = sorted(row.number for row in cases if row.number)
        message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids))
        await session.execute(delete(OutboxItem).where(OutboxItem.message_id.in_(message_ids)))
        # Replies point at their inbound message; clear the links first so the order of deletion is free.
        await session.execute(
            update(Message).where(Message.conversation_id.in_(conversation_ids)).values(reply_to_id=None)
        )
        report.messages = _count(await session.execute(
            delete(Message).where(Message.conversation_id.in_(conversation_ids))
        ))
        report.notes = _count(await session.execute(delete(CaseNote).where(CaseNote.case_id.in_(case_ids))))
        report.attachments = _count(await session.execute(
            delete(CaseAttachment).where(CaseAttachment.case_id.in_(case_ids))
        ))
        await session.execute(delete(Case).where(Case.id.in_(case_ids)))
        await session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.patient_id == patient_id))
        await session.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
        await session.execute(delete(Patient).where(Patient.id == patient_id))
        record(session, "patient_erased", actor_id=actor_id, details={"case_numbers": report.case_numbers})

    if forget_tracker is not None:
        try:
            await forget_tracker(report.sender_id)
            report.tracker_api_reset = True
        except Exception as exc:  # Rasa down: the SQL deletion below still removes the stored events
            report.problems.append(f"Rasa API reset failed ({type(exc).__name__}); stored events deleted directly")
    if tracker_store_url:
        try:
            report.tracker_events = delete_tracker_rows(tracker_store_url, report.sender_id)
        except SQLAlchemyError as exc:
            report.problems.append(f"Rasa tracker store not cleaned: {type(exc).__name__}")
    if redis_url:
        report.redis_keys, problem = await _erase_redis_keys(redis_url, channel, external_id, patient_id)
        if problem:
            report.problems.append(problem)
    logger.info("patient erased", extra={"patient_id": patient_id, "cases": len(report.case_numbers)})
    return report


async def _erase_redis_keys(redis_url: str, channel: str, external_id: str, patient_id: int) -> tuple[int, str | None]:
    """Delete the patient's Redis keys (locks, rate-limit windows, channel state); (count, problem)."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from bot.core.redis_backends import erase_patient_keys

    redis = Redis.from_url(redis_url)
    try:
        return await erase_patient_keys(redis, channel, external_id, patient_id), None
    except RedisError as exc:
        return 0, f"Redis keys not cleaned: {type(exc).__name__}"
    finally:
        await redis.aclose()


def delete_tracker_rows(tracker_store_url: str, sender_id: str) -> int:
    """Delete the sender's rows from Rasa's SQL tracker store (table ``events``); return how many.

    A store without an ``events`` table (Rasa never wrote to it) holds nothing to delete.
    """
    engine = create_engine(sync_url(tracker_store_url))
    install_sqlite_pragmas(engine)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            result = connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender_id})
            return int(result.rowcount or 0)
    finally:
        engine.dispose()


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
