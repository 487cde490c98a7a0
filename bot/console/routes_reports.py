"""Search and metrics pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bot.console import metrics as figures
from bot.console.deps import ConsoleDep, UserDep
from bot.console.queries import patient_name, search_cases, search_messages

router = APIRouter()


@router.get("/search")
async def search_page(
    request: Request, console: ConsoleDep, user: UserDep, q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    async with console.runtime.database.session() as session:
        cases = await search_cases(session, user, q)
        hits = await search_messages(session, user, q)
    return console.render(request, "search.html", user, q=q, cases=cases, hits=hits, name_of=patient_name)


@router.get("/metrics")
async def metrics_page(
    request: Request, console: ConsoleDep, user: UserDep, days: Annotated[int, Query(ge=0, le=3650)] = 30,
) -> Response:
    """Aggregate figures for everyone; the unanswered questions (patients' own words) for admins only."""
    async with console.runtime.database.session() as session:
        result = await figures.collect(session, figures.window_start(days), with_questions=user.is_admin)
    return console.render(request, "metrics.html", user, m=result, days=days, duration=figures.format_duration)
