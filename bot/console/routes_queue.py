"""The queue page, its live rows and its event stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from bot.console.deps import ConsoleDep, UserDep
from bot.console.live import queue_stream
from bot.console.queries import QueueFilter, is_overdue, matches_filters, patient_name, queue, queue_row
from bot.handoff.models import CaseStage, CaseStatus, Coordinator
from bot.storage.models import utcnow

router = APIRouter()

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _filters(
    status: Annotated[str, Query(max_length=32)] = "active",
    stage: Annotated[str, Query(max_length=32)] = "",
    label: Annotated[str, Query(max_length=40)] = "",
    language: Annotated[str, Query(max_length=8)] = "",
    assignee: Annotated[str, Query(max_length=16)] = "",
) -> QueueFilter:
    """The queue filters from the query string (one definition for the page and its live rows)."""
    return QueueFilter(status, stage, label, language, assignee)


FiltersDep = Annotated[QueueFilter, Depends(_filters)]


async def _coordinators(console: ConsoleDep) -> list[Coordinator]:
    async with console.runtime.database.session() as session:
        query = select(Coordinator).where(Coordinator.active.is_(True)).order_by(Coordinator.display_name)
        return list((await session.execute(query)).scalars())


@router.get("/queue")
async def queue_page(
    request: Request, console: ConsoleDep, user: UserDep, filters: FiltersDep,
) -> Response:
    async with console.runtime.database.session() as session:
        cases = await queue(session, user, filters)
    return console.render(
        request, "queue.html", user,
        cases=cases, filters=filters, statuses=list(CaseStatus), stages=list(CaseStage),
        languages=console.runtime.settings.languages, coordinators=await _coordinators(console),
        name_of=patient_name, overdue=is_overdue, now=utcnow(),
        unassigned=sum(1 for c in cases if c.assignee_id is None),
    )


@router.get("/queue/rows/{case_id}")
async def queue_row_fragment(
    request: Request, case_id: int, console: ConsoleDep, user: UserDep, filters: FiltersDep,
) -> Response:
    """One queue row (escaped HTML) for the live page; 204 when the case left the page's filters."""
    async with console.runtime.database.session() as session:
        case = await queue_row(session, user, case_id)
        matches = case is not None and await matches_filters(session, user, filters, case_id)
    if case is None or not matches:
        return Response(status_code=204)
    return console.render(
        request, "_queue_row.html", user, case=case, name_of=patient_name, overdue=is_overdue, now=utcnow()
    )


@router.get("/events")
async def queue_events(console: ConsoleDep, user: UserDep) -> StreamingResponse:
    """Live queue updates (ids only) for the signed-in user."""
    return StreamingResponse(queue_stream(console.runtime, user), media_type="text/event-stream",
                             headers=SSE_HEADERS)
