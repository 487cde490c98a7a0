"""Figures for the metrics page: cases by status and stage, response times, unanswered questions."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.sessions import aware
from bot.handoff.models import Case, CaseStage, CaseStatus
from bot.storage.models import UnansweredQuestion, utcnow

TOP_QUESTIONS = 20


@dataclass
class Metrics:
    by_status: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    median_first_response: timedelta | None = None
    median_resolution: timedelta | None = None
    responded: int = 0
    resolved: int = 0
    top_unanswered: list[tuple[str, str | None, int]] = field(default_factory=list)


def _median(durations: list[timedelta]) -> timedelta | None:
    if not durations:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in durations))


def format_duration(value: timedelta | None) -> str:
    """``2 h 05 min`` / ``45 s``; a dash when there is nothing to measure."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


async def collect(session: AsyncSession, since: datetime | None = None, with_questions: bool = True) -> Metrics:
    """Metrics over the cases created since ``since`` (all when None)."""
    metrics = Metrics(
        by_status={s.value: 0 for s in CaseStatus}, by_stage={s.value: 0 for s in CaseStage}
    )
    status_query = select(Case.status, func.count()).group_by(Case.status)
    stage_query = select(Case.stage, func.count()).where(Case.status.not_in(
        (CaseStatus.RESOLVED, CaseStatus.CLOSED))).group_by(Case.stage)
    times = select(Case.created_at, Case.first_response_at, Case.resolved_at)
    if since is not None:
        status_query = status_query.where(Case.created_at >= since)
        stage_query = stage_query.where(Case.created_at >= since)
        times = times.where(Case.created_at >= since)
    for status, count in (await session.execute(status_query)).all():
        metrics.by_status[CaseStatus(status).value] = int(count)
    for stage, count in (await session.execute(stage_query)).all():
        metrics.by_stage[CaseStage(stage).value] = int(count)
    first, resolution = [], []
    for created, responded, resolved in (await session.execute(times)).all():
        if responded is not None:
            first.append(aware(responded) - aware(created))
        if resolved is not None:
            resolution.append(aware(resolved) - aware(created))
    metrics.median_first_response, metrics.responded = _median(first), len(first)
    metrics.median_resolution, metrics.resolved = _median(resolution), len(resolution)
    if with_questions:
        normalized = func.lower(func.trim(UnansweredQuestion.text))
        query = (
            select(normalized, func.min(UnansweredQuestion.language), func.count().label("n"))
            .group_by(normalized)
            .order_by(func.count().desc(), normalized)
            .limit(TOP_QUESTIONS)
        )
        if since is not None:
            query = query.where(UnansweredQuestion.created_at >= since)
        metrics.top_unanswered = [(str(text), lang, int(n)) for text, lang, n in (await session.execute(query)).all()]
    return metrics


def window_start(days: int) -> datetime | None:
    """The start of a "last N days" window; 0 means all time."""
    return utcnow() - timedelta(days=days) if days > 0 else None
