"""Case services: opening, claiming, working and closing cases, used by the bot's actions and the console.

Framework-free: every function works on an ``AsyncSession`` (one transaction, committed by the caller's
``async with database.session()``). The actions that send the patient a message (a coordinator's
reply, back to the bot) are in ``bot.handoff.patient_replies``.

Every coordinator action writes an audit event (``bot.handoff.audit.record``) holding ids, states and
case numbers only: never message text, notes, intake answers or any other health data.

Live updates: the functions that run on a session cannot publish (the transaction is not committed
yet). The console calls :func:`publish_case_event` after its session closed. Cases opened by the bot
(in the action server process) reach the console as the bot reply's message event on the "console"
topic, whose ``custom`` holds ``{"handoff": "case_opened", "case_number": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.conversation import CONSOLE_TOPIC
from bot.core.events import EventBus
from bot.handoff.audit import record
from bot.handoff.models import Case, CaseNote, CasePriority, CaseStage, CaseStatus, CaseTrigger
from bot.settings import ConsoleSettings, get_settings
from bot.storage.models import Conversation, ConversationMode, Patient, utcnow

# A case in one of these states no longer accepts attachments or bot handoffs; a new request opens a new case.
FINISHED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
# Intake answers the form collects, in the order it asks them.
INTAKE_FIELDS = ("name", "country", "treatment", "preferred_place", "travel_window", "contact")
MAX_INTAKE_CHARS = 500
MAX_LABELS = 12
MAX_LABEL_CHARS = 32
MAX_NOTE_CHARS = 10_000
MAX_REPLY_CHARS = 4_000


class CaseError(Exception):
    """Base class of the errors a case action reports to the console or the bot."""


class CaseNotFound(CaseError, LookupError):
    """No case with this id (or number)."""


class CaseFinished(CaseError):
    """The action needs an unfinished case, but the case is resolved or closed."""


class InvalidCaseInput(CaseError, ValueError):
    """A field given to a case action is invalid; the message names it."""


@dataclass(frozen=True)
class CaseStatusSummary:
    """What ``/status`` tells a patient about their case (no health data)."""

    number: str
    status: CaseStatus
    stage: CaseStage
    coordinator_replied: bool
    opened_at: datetime
    first_response_at: datetime | None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite hands back naive datetimes for values stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- numbering and lookup -------------------------------------------------------------------------


def case_number(case_id: int, opened_at: datetime) -> str:
    """The human-readable number of a case: ``MC-<year>-<6-digit id>``, e.g. ``MC-2026-000123``."""
    return f"MC-{opened_at.year}-{case_id:06d}"


async def get_case(session: AsyncSession, case_id: int) -> Case:
    """The case with this id; raises :class:`CaseNotFound`."""
    case = await session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    return case


async def get_case_by_number(session: AsyncSession, number: str) -> Case:
    """The case with this number (``MC-2026-000123``, case-insensitive); raises :class:`CaseNotFound`."""
    query = select(Case).where(Case.number == number.strip().upper())
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise CaseNotFound(f"case {number!r} does not exist")
    return case


async def find_open_case(session: AsyncSession, patient_id: int) -> Case | None:
    """The patient's most recent case that is neither resolved nor closed, if any."""
    query = (
        select(Case)
        .where(Case.patient_id == patient_id, Case.status.not_in(FINISHED_STATUSES))
        .order_by(Case.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def status_summary(session: AsyncSession, patient_id: int) -> CaseStatusSummary | None:
    """The patient's open case (or else their latest case) for ``/status``; None when they never had one."""
    case = await find_open_case(session, patient_id)
    if case is None:
        query = select(Case).where(Case.patient_id == patient_id).order_by(Case.id.desc()).limit(1)
        case = (await session.execute(query)).scalar_one_or_none()
    if case is None or case.number is None:
        return None
    return CaseStatusSummary(
        number=case.number,
        status=case.status,
        stage=case.stage,
        coordinator_replied=case.first_response_at is not None,
        opened_at=case.created_at,
        first_response_at=case.first_response_at,
    )


# --- opening (the bot's side) ---------------------------------------------------------------------


def clean_intake(answers: dict[str, Any]) -> dict[str, str | None]:
    """Keep only the known intake fields, trimmed; blank or skipped answers become None."""
    cleaned: dict[str, str | None] = {}
    for field in INTAKE_FIELDS:
        value = answers.get(field)
        text = str(value).strip()[:MAX_INTAKE_CHARS] if value is not None else ""
        cleaned[field] = text or None
    return cleaned


def sla_due(opened_at: datetime, priority: CasePriority, settings: ConsoleSettings | None = None) -> datetime:
    """When the first response is due: ``console.sla_hours`` or ``console.urgent_sla_hours``."""
    console = settings or get_settings().console
    hours = console.urgent_sla_hours if priority is CasePriority.URGENT else console.sla_hours
    return opened_at + timedelta(hours=hours)


async def record_consent(session: AsyncSession, patient_id: int) -> datetime:
    """Record that the patient agreed to the storage of their health data (``Patient.consent_given_at``)."""
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise LookupError(f"patient {patient_id} does not exist")
    now = utcnow()
    patient.consent_given_at = now
    record(session, "consent_given", details={"patient_id": patient_id})
    return now


async def open_case(
    session: AsyncSession,
    patient_id: int,
    trigger: CaseTrigger,
    language: str,
    *,
    priority: CasePriority = CasePriority.NORMAL,
    intake: dict[str, Any] | None = None,
    consent_at: datetime | None = None,
    settings: ConsoleSettings | None = None,
) -> tuple[Case, bool]:
    """Open a case for the patient and hand the conversation to humans; return ``(case, created)``.

    A new case gets status ``new``, stage ``intake``, an SLA due time and a number
    ``MC-<year>-<6-digit id>``; the conversation switches to ``ConversationMode.HUMAN`` so the bot
    stays silent (the core still sends the emergency reply). An audit event ``case_opened`` is written.

    When the patient already has an unfinished case, that case is reused (``created`` is False): the
    conversation goes back to HUMAN, new intake answers fill empty fields, and an urgent request
    raises the priority and brings the SLA forward (audit ``case_escalated``).

    ``intake`` is health data: pass it only with ``consent_at`` (the caller recorded consent).
    """
    if intake is not None and consent_at is None:
        raise InvalidCaseInput("intake: health data needs the patient's consent (consent_at)")
    conversation = (
        await session.execute(select(Conversation).where(Conversation.patient_id == patient_id))
    ).scalar_one_or_none()
    if conversation is None:
        raise LookupError(f"patient {patient_id} has no conversation")
    conversation.mode = ConversationMode.HUMAN
    conversation.fallback_streak = 0
    now = utcnow()
    answers = clean_intake(intake) if intake is not None else None

    existing = await find_open_case(session, patient_id)
    if existing is not None:
        if answers is not None:
            merged = dict(existing.intake or {})
            merged.update({k: v for k, v in answers.items() if v is not None or k not in merged})
            existing.intake = merged
            existing.consent_at = existing.consent_at or consent_at
        if priority is CasePriority.URGENT and existing.priority is not CasePriority.URGENT:
            existing.priority = CasePriority.URGENT
            existing.sla_due_at = min(as_utc(existing.sla_due_at), sla_due(now, priority, settings))
            record(session, "case_escalated", case_number=existing.number,
                   details={"trigger": trigger.value, "priority": priority.value})
        existing.updated_at = now
        return existing, False

    patient = await session.get(Patient, patient_id)
    assert patient is not None  # the conversation's foreign key guarantees it
    case = Case(
        patient_id=patient_id,
        conversation_id=conversation.id,
        channel=patient.channel,
        language=language,
        status=CaseStatus.NEW,
        stage=CaseStage.INTAKE,
        priority=priority,
        trigger=trigger,
        labels=[],
        intake=answers,
        consent_at=consent_at if answers is not None else None,
        sla_due_at=sla_due(now, priority, settings),
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()  # the id makes the number
    case.number = case_number(case.id, now)
    record(session, "case_opened", case_number=case.number,
           details={"trigger": trigger.value, "priority": priority.value, "language": language})
    return case, True


# --- coordinator actions --------------------------------------------------------------------------


async def claim_case(session: AsyncSession, case_id: int, coordinator_id: int) -> bool:
    """Take an unassigned case; True when this coordinator won it.

    Atomic: one conditional ``UPDATE ... WHERE assignee_id IS NULL``, so of two coordinators claiming
    at once exactly one wins (the other gets False). Raises :class:`CaseNotFound` for an unknown id.
    """
    now = utcnow()
    result = await session.execute(
        update(Case)
        .where(Case.id == case_id, Case.assignee_id.is_(None))
        .values(assignee_id=coordinator_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    won = (result.rowcount or 0) == 1  # type: ignore[attr-defined]
    case = await get_case(session, case_id)
    await session.refresh(case)
    if won:
        record(session, "case_claimed", actor_id=coordinator_id, case_number=case.number)
    return won


async def assign_case(session: AsyncSession, case_id: int, assignee_id: int | None, actor_id: int) -> Case:
    """Give the case to ``assignee_id`` (None releases it). Rights (admin, or self) are the console's check."""
    case = await get_case(session, case_id)
    previous = case.assignee_id
    case.assignee_id = assignee_id
    case.updated_at = utcnow()
    record(session, "case_assigned", actor_id=actor_id, case_number=case.number,
           details={"from": previous, "to": assignee_id})
    return case


async def set_status(session: AsyncSession, case_id: int, status: CaseStatus, actor_id: int) -> Case:
    """Change the status; resolving and closing stamp ``resolved_at`` / ``closed_at``, reopening clears them."""
    case = await get_case(session, case_id)
    previous = case.status
    now = utcnow()
    case.status = status
    if status is CaseStatus.RESOLVED:
        case.resolved_at = case.resolved_at or now
    elif status is CaseStatus.CLOSED:
        case.closed_at = case.closed_at or now
        case.resolved_at = case.resolved_at or now
    else:
        case.resolved_at = None
        case.closed_at = None
    case.updated_at = now
    record(session, "status_changed", actor_id=actor_id, case_number=case.number,
           details={"from": previous.value, "to": status.value})
    return case


async def set_stage(session: AsyncSession, case_id: int, stage: CaseStage, actor_id: int) -> Case:
    """Move the case along the agency pipeline (seed 000)."""
    case = await get_case(session, case_id)
    previous = case.stage
    case.stage = stage
    case.updated_at = utcnow()
    record(session, "stage_changed", actor_id=actor_id, case_number=case.number,
           details={"from": previous.value, "to": stage.value})
    return case


async def set_priority(
    session: AsyncSession, case_id: int, priority: CasePriority, actor_id: int,
    settings: ConsoleSettings | None = None,
) -> Case:
    """Change the priority; raising it to urgent brings the SLA forward (never pushes it back)."""
    case = await get_case(session, case_id)
    previous = case.priority
    case.priority = priority
    if priority is CasePriority.URGENT and case.first_response_at is None:
        case.sla_due_at = min(as_utc(case.sla_due_at), sla_due(utcnow(), priority, settings))
    case.updated_at = utcnow()
    record(session, "priority_changed", actor_id=actor_id, case_number=case.number,
           details={"from": previous.value, "to": priority.value})
    return case


def normalize_labels(labels: list[str]) -> list[str]:
    """Trimmed, lower-case, de-duplicated labels in their first order; raises on too many or too long."""
    result: list[str] = []
    for raw in labels:
        label = " ".join(raw.split()).lower()
        if not label or label in result:
            continue
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidCaseInput(f"labels: {label[:20]!r}… is longer than {MAX_LABEL_CHARS} characters")
        result.append(label)
    if len(result) > MAX_LABELS:
        raise InvalidCaseInput(f"labels: at most {MAX_LABELS} labels")
    return result


async def set_labels(session: AsyncSession, case_id: int, labels: list[str], actor_id: int) -> Case:
    """Replace the case's labels (normalized by :func:`normalize_labels`)."""
    case = await get_case(session, case_id)
    case.labels = normalize_labels(labels)
    case.updated_at = utcnow()
    # Labels are the coordinators' own vocabulary (e.g. "visa", "vip"), not health data; only the count is logged.
    record(session, "labels_changed", actor_id=actor_id, case_number=case.number,
           details={"count": len(case.labels)})
    return case


async def add_note(session: AsyncSession, case_id: int, author_id: int, text: str) -> CaseNote:
    """Add an internal note (never sent to the patient). The audit event holds the note id, not its text."""
    body = text.strip()
    if not body:
        raise InvalidCaseInput("note: must not be empty")
    if len(body) > MAX_NOTE_CHARS:
        raise InvalidCaseInput(f"note: at most {MAX_NOTE_CHARS} characters")
    case = await get_case(session, case_id)
    note = CaseNote(case_id=case.id, author_id=author_id, text=body)
    session.add(note)
    case.updated_at = utcnow()
    await session.flush()
    record(session, "note_added", actor_id=author_id, case_number=case.number, details={"note_id": note.id})
    return note


async def publish_case_event(events: EventBus, case: Case, action: str) -> None:
    """Announce a change of a case on the console topic (call after the transaction committed).

    The event holds ids and states only: ``{"type": "case", "action", "case_id", "case_number",
    "status", "stage", "priority", "assignee_id", "conversation_id"}``.
    """
    await events.publish(CONSOLE_TOPIC, {
        "type": "case",
        "action": action,
        "case_id": case.id,
        "case_number": case.number,
        "status": case.status.value,
        "stage": case.stage.value,
        "priority": case.priority.value,
        "assignee_id": case.assignee_id,
        "conversation_id": case.conversation_id,
    })
