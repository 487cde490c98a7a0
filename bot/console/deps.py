"""Request plumbing shared by the console's routers: the signed-in user, CSRF, rendering, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.operations import CaseActions
from bot.console.security import same_token
from bot.console.sessions import ConsoleUser, aware, resolve_session
from bot.runtime import Runtime

PREFIX = "/console"
HERE = Path(__file__).resolve().parent
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No valid session on a page that needs one."""


class CsrfRejected(Exception):
    """A POST without the session's CSRF token."""


class AdminOnly(Exception):
    """A coordinator asked for an admin page."""


def format_time(value: datetime | None) -> str:
    """Times in the console are shown in UTC, to the minute."""
    if value is None:
        return "—"
    return aware(value).strftime("%Y-%m-%d %H:%M UTC")


def build_templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template, whatever its extension."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.globals["prefix"] = PREFIX
    return Jinja2Templates(env=env)


@dataclass
class Console:
    """Everything the console's routes share (one per application)."""

    runtime: Runtime
    templates: Jinja2Templates
    actions: CaseActions

    @property
    def cookie_name(self) -> str:
        return self.runtime.settings.console.session_cookie

    def render(
        self, request: Request, template: str, user: ConsoleUser | None = None, status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        context.update(user=user, csrf_token=user.csrf_token if user else "")
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def current_user(request: Request, console: ConsoleDep) -> ConsoleUser:
    """The signed-in user, or ``LoginRequired``."""
    token = request.cookies.get(console.cookie_name)
    async with console.runtime.database.session() as session:
        user = await resolve_session(session, token)
    if user is None:
        raise LoginRequired()
    return user


UserDep = Annotated[ConsoleUser, Depends(current_user)]


async def csrf_user(request: Request, user: UserDep) -> ConsoleUser:
    """The signed-in user of a POST that carries the session's CSRF token (form field or header)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(user.csrf_token, given):
        raise CsrfRejected()
    return user


PostUserDep = Annotated[ConsoleUser, Depends(csrf_user)]


async def admin_user(user: UserDep) -> ConsoleUser:
    if not user.is_admin:
        raise AdminOnly()
    return user


AdminDep = Annotated[ConsoleUser, Depends(admin_user)]


async def admin_post_user(user: PostUserDep) -> ConsoleUser:
    if not user.is_admin:
        raise AdminOnly()
    return user


AdminPostDep = Annotated[ConsoleUser, Depends(admin_post_user)]


def redirect(path: str) -> RedirectResponse:
    """A 303 redirect inside the console (after a POST)."""
    return RedirectResponse(PREFIX + path, status_code=303)


def wants_page(request: Request) -> bool:
    """A browser navigation (GET of a page), as opposed to a fragment, stream or form post."""
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and "/events" not in request.url.path


def error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    console = get_console(request)
    return console.render(request, "error.html", None, status_code, title=title, detail=detail)
