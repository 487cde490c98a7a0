"""Mounts the coordinator console on the application under ``/console``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.console import routes_admin, routes_auth, routes_case, routes_export, routes_queue, routes_reports
from bot.console.access import NotVisible
from bot.console.demo import ensure_demo_account_job
from bot.console.deps import (
    HERE,
    PREFIX,
    AdminOnly,
    Console,
    CsrfRejected,
    LoginRequired,
    build_templates,
    error_page,
    wants_page,
)
from bot.console.operations import CaseActions, Conflict, Forbidden
from bot.console.watch import new_case_watcher
from bot.handoff.cases import CaseFinished, CaseNotFound, InvalidCaseInput
from bot.runtime import Runtime

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
     b"frame-ancestors 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]


class ConsoleHeaders:
    """Security headers on every console response (pure ASGI, so event streams stay streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _install_error_pages(app: FastAPI) -> None:
    async def login_required(request: Request, _exc: Exception) -> Response:
        if wants_page(request):
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return PlainTextResponse("login required", status_code=401)

    async def csrf_rejected(request: Request, _exc: Exception) -> Response:
        return error_page(request, 403, "Request refused", "The form's security token is missing or wrong. "
                          "Reload the page and try again.")

    async def admin_only(request: Request, _exc: Exception) -> Response:
        return error_page(request, 403, "Admins only", "This page is for console admins.")

    async def not_visible(request: Request, _exc: Exception) -> Response:
        return error_page(request, 404, "Not found", "There is no such case, or it is not yours to see.")

    async def forbidden(request: Request, exc: Exception) -> Response:
        return error_page(request, 403, "Not allowed", str(exc))

    async def conflict(request: Request, exc: Exception) -> Response:
        return error_page(request, 409, "Changed meanwhile", str(exc))

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
    app.add_exception_handler(AdminOnly, admin_only)
    app.add_exception_handler(NotVisible, not_visible)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(Conflict, conflict)

    async def invalid_input(request: Request, exc: Exception) -> Response:
        return error_page(request, 422, "Not saved", str(exc))

    async def finished(request: Request, exc: Exception) -> Response:
        return error_page(request, 409, "Case finished", str(exc))

    async def case_missing(request: Request, _exc: Exception) -> Response:
        return error_page(request, 404, "Not found", "There is no such case, or it is not yours to see.")

    app.add_exception_handler(InvalidCaseInput, invalid_input)
    app.add_exception_handler(CaseFinished, finished)
    app.add_exception_handler(CaseNotFound, case_missing)


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Routes, static files, security headers and the development demo account."""
    app.state.console = Console(runtime, build_templates(), CaseActions(runtime))
    for module in (routes_auth, routes_queue, routes_case, routes_export, routes_reports, routes_admin):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_middleware(ConsoleHeaders)
    _install_error_pages(app)
    runtime.background_jobs["console-new-cases"] = new_case_watcher(runtime)
    if runtime.settings.environment == "development":
        runtime.background_jobs["console-demo-account"] = ensure_demo_account_job(runtime)
