"""Read-side queries of the console: the queue, search and the transcript of a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.console.access import visible_clause
from bot.console.sessions import ConsoleUser, aware
from bot.handoff.models import Case, CaseStatus
from bot.storage.models import Message, utcnow

QUEUE_LIMIT = 500
SEARCH_LIMIT = 100
ACTIVE = "active"  # the default status filter: everything not resolved or closed
FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


@dataclass(frozen=True)
class QueueFilter:
    """The queue page's filters, as given in the query string (empty = any)."""

    status: str = ACTIVE
    stage: str = ""
    label: str = ""
    language: str = ""
    assignee: str = ""  # "", "me", "unassigned" or a coordinator id

    def as_params(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def patient_name(case: Case) -> str:
    """The name the patient gave at intake, else their channel display name, else a dash."""
    intake = case.intake or {}
    name = intake.get("name") if isinstance(intake, dict) else None
    if isinstance(name, str) and name.strip():
        return name.strip()
    if case.patient is not None and case.patient.display_name:
        return case.patient.display_name
    return "—"


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return case.status not in FINISHED and aware(case.sla_due_at) < (now or utcnow())


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` literally (wildcards escaped with backslash)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _json_needle(text: str) -> str:
    """``text`` as it appears inside stored JSON (non-ASCII is \\u-escaped by the JSON serializer)."""
    return json.dumps(text)[1:-1]


def queue_conditions(user: ConsoleUser, filters: QueueFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Case`` for the visible cases matching ``filters``."""
    conditions = [visible_clause(user)]
    if filters.status == ACTIVE:
        conditions.append(Case.status.not_in(FINISHED))
    elif filters.status in {s.value for s in CaseStatus}:
        conditions.append(Case.status == CaseStatus(filters.status))
    if filters.stage:
        conditions.append(Case.stage == filters.stage)
    if filters.language:
        conditions.append(Case.language == filters.language)
    if filters.label:
        needle = json.dumps(filters.label.strip().lower())
        conditions.append(cast(Case.labels, Text).like(_like(needle), escape="\\"))
    if filters.assignee == "me":
        conditions.append(Case.assignee_id == user.id)
    elif filters.assignee == "unassigned":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        conditions.append(Case.assignee_id == int(filters.assignee))
    return conditions


def queue_query(user: ConsoleUser, filters: QueueFilter) -> Select[Case]:
    query = select(Case).where(*queue_conditions(user, filters))
    return query.options(selectinload(Case.patient), selectinload(Case.assignee))


async def matches_filters(session: AsyncSession, user: ConsoleUser, filters: QueueFilter, case_id: int) -> bool:
    query = select(Case.id).where(Case.id == case_id, *queue_conditions(user, filters))
    return (await session.execute(query)).first() is not None


async def queue(session: AsyncSession, user: ConsoleUser, filters: QueueFilter) -> list[Case]:
    """Visible cases matching ``filters``, most urgent SLA first (unassigned first on a tie)."""
    query = queue_query(user, filters).order_by(Case.sla_due_at, Case.assignee_id.is_not(None), Case.id)
    return list((await session.execute(query.limit(QUEUE_LIMIT))).scalars())


async def queue_row(session: AsyncSession, user: ConsoleUser, case_id: int) -> Case | None:
    """One visible case with what a queue row shows (None when not visible)."""
    query = (
        select(Case)
        .where(Case.id == case_id, visible_clause(user))
        .options(selectinload(Case.patient), selectinload(Case.assignee))
    )
    return (await session.execute(query)).scalar_one_or_none()


async def cases_of_conversation(session: AsyncSession, conversation_id: int) -> list[Case]:
    """The cases of a conversation, newest first (live events name conversations, rows are cases)."""
    query = select(Case).where(Case.conversation_id == conversation_id).order_by(Case.id.desc())
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class MessageHit:
    case: Case
    message: Message


async def search_cases(session: AsyncSession, user: ConsoleUser, text: str) -> list[Case]:
    """Visible cases whose number, intake name or a label contains ``text`` (case-insensitive)."""
    text = text.strip()
    if not text:
        return []
    escaped = _json_needle(text)
    query = (
        select(Case)
        .where(
            visible_clause(user),
            or_(
                Case.number.ilike(_like(text), escape="\\"),
                cast(Case.intake, Text).ilike(_like(text), escape="\\"),
                cast(Case.intake, Text).ilike(_like(escaped), escape="\\"),
                cast(Case.labels, Text).ilike(_like(text), escape="\\"),
                cast(Case.labels, Text).ilike(_like(escaped), escape="\\"),
            ),
        )
        .order_by(Case.id.desc())
        .limit(SEARCH_LIMIT * 5)
        .options(selectinload(Case.patient), selectinload(Case.assignee))
    )
    needle = text.casefold()
    hits = []
    # The SQL pre-filter also matches other intake fields; keep number, name and labels only.
    for case in (await session.execute(query)).scalars():
        intake: dict[str, Any] = case.intake if isinstance(case.intake, dict) else {}
        fields = [case.number or "", str(intake.get("name") or ""), *case.labels]
        if any(needle in field.casefold() for field in fields):
            hits.append(case)
    return hits[:SEARCH_LIMIT]


async def search_messages(session: AsyncSession, user: ConsoleUser, text: str) -> list[MessageHit]:
    """Messages containing ``text`` in conversations of cases the user may see (newest first)."""
    text = text.strip()
    if not text:
        return []
    query = (
        select(Message, Case)
        .join(Case, Case.conversation_id == Message.conversation_id)
        .where(visible_clause(user), Message.text.ilike(_like(text), escape="\\"))
        .order_by(Message.id.desc())
        .limit(SEARCH_LIMIT)
    )
    seen: set[int] = set()
    hits = []
    for message, case in (await session.execute(query)).all():
        if message.id in seen:  # a conversation with several cases: show each message once
            continue
        seen.add(message.id)
        hits.append(MessageHit(case, message))
    return hits


async def transcript(session: AsyncSession, conversation_id: int, after_id: int = 0) -> list[Message]:
    """Messages of a conversation in order (optionally only those after ``after_id``)."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id)
    )
    return list((await session.execute(query)).scalars())
