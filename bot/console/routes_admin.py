"""Admin pages: console accounts and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from bot.console import coordinators as accounts
from bot.console.deps import AdminDep, AdminPostDep, ConsoleDep, redirect
from bot.console.security import WeakPassword
from bot.handoff.models import AuditEvent, Coordinator, Role

router = APIRouter()

AUDIT_PAGE = 100
NOTICES = {
    "created": "Account created.",
    "saved": "Saved.",
    "password": "Password changed; the account was signed out everywhere.",
}


async def _page(request: Request, console: ConsoleDep, user: AdminDep, error: str = "", notice: str = "",
                status_code: int = 200) -> Response:
    async with console.runtime.database.session() as session:
        people = list((await session.execute(select(Coordinator).order_by(Coordinator.email))).scalars())
    return console.render(request, "coordinators.html", user, status_code, people=people, roles=list(Role),
                          error=error, notice=NOTICES.get(notice, ""))


@router.get("/admin/coordinators")
async def coordinators_page(
    request: Request, console: ConsoleDep, user: AdminDep, notice: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    return await _page(request, console, user, notice=notice)


@router.post("/admin/coordinators")
async def create(
    request: Request, console: ConsoleDep, user: AdminPostDep,
    email: Annotated[str, Form(max_length=254)], password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "", role: Annotated[Role, Form()] = Role.COORDINATOR,
) -> Response:
    try:
        async with console.runtime.database.session() as session:
            await accounts.create_coordinator(session, email, display_name, password, role, user.id)
    except (accounts.AccountError, WeakPassword) as exc:
        return await _page(request, console, user, error=str(exc), status_code=422)
    return redirect("/admin/coordinators?notice=created")


@router.post("/admin/coordinators/{coordinator_id}/active")
async def set_active(
    request: Request, coordinator_id: int, console: ConsoleDep, user: AdminPostDep,
    active: Annotated[bool, Form()],
) -> Response:
    try:
        async with console.runtime.database.session() as session:
            await accounts.set_active(session, coordinator_id, active, user.id)
    except accounts.AccountError as exc:
        return await _page(request, console, user, error=str(exc), status_code=422)
    return redirect("/admin/coordinators?notice=saved")


@router.post("/admin/coordinators/{coordinator_id}/role")
async def set_role(
    request: Request, coordinator_id: int, console: ConsoleDep, user: AdminPostDep, role: Annotated[Role, Form()],
) -> Response:
    try:
        async with console.runtime.database.session() as session:
            await accounts.set_role(session, coordinator_id, role, user.id)
    except accounts.AccountError as exc:
        return await _page(request, console, user, error=str(exc), status_code=422)
    return redirect("/admin/coordinators?notice=saved")


@router.post("/admin/coordinators/{coordinator_id}/password")
async def reset_password(
    request: Request, coordinator_id: int, console: ConsoleDep, user: AdminPostDep,
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    try:
        async with console.runtime.database.session() as session:
            await accounts.reset_password(session, coordinator_id, password, user.id)
    except (accounts.AccountError, WeakPassword) as exc:
        return await _page(request, console, user, error=str(exc), status_code=422)
    return redirect("/admin/coordinators?notice=password")


@router.get("/audit")
async def audit_page(
    request: Request, console: ConsoleDep, user: AdminDep,
    action: Annotated[str, Query(max_length=64)] = "",
    case: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    query = select(AuditEvent, Coordinator.email).outerjoin(Coordinator, Coordinator.id == AuditEvent.actor_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if case:
        query = query.where(AuditEvent.case_number == case.strip().upper())
    async with console.runtime.database.session() as session:
        rows = list((await session.execute(
            query.order_by(AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE + 1)
        )).all())
        actions = list((await session.execute(
            select(AuditEvent.action).group_by(AuditEvent.action).order_by(func.min(AuditEvent.action))
        )).scalars())
    return console.render(request, "audit.html", user, rows=rows[:AUDIT_PAGE], more=len(rows) > AUDIT_PAGE,
                          page=page, action=action, case=case, actions=actions)
