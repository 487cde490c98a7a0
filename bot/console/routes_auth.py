"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.deps import PREFIX, ConsoleDep, PostUserDep, redirect
from bot.console.security import new_token, same_token
from bot.console.sessions import LoginResult, authenticate, end_session, start_session
from bot.handoff.audit import record

LOGIN_CSRF_COOKIE = "mc_login_csrf"

router = APIRouter()


def _login_page(request: Request, console: ConsoleDep, status_code: int = 200, error: str = "") -> Response:
    """The login form, with a fresh double-submit token (there is no session to hold one yet)."""
    token = new_token()
    response = console.render(request, "login.html", None, status_code, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, path=PREFIX, httponly=True, samesite="strict",
        secure=console.runtime.settings.console.secure_cookies,
    )
    return response


@router.get("/")
async def home() -> RedirectResponse:
    return redirect("/queue")


@router.get("/login")
async def login_form(request: Request, console: ConsoleDep) -> Response:
    return _login_page(request, console)


@router.post("/login")
async def login(
    request: Request,
    console: ConsoleDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, console, 403, "Your login form expired. Please try again.")
    settings = console.runtime.settings.console
    async with console.runtime.database.session() as session:
        outcome = await authenticate(session, email, password, settings)
        token = None
        if outcome.result is LoginResult.OK and outcome.coordinator is not None:
            token = await start_session(session, outcome.coordinator.id, settings)
            record(session, "login", outcome.coordinator.id)
    if outcome.result is LoginResult.LOCKED:
        minutes = max(1, settings.lockout_window_seconds // 60)
        return _login_page(request, console, 429, f"Too many failed attempts. Try again in {minutes} minutes.")
    if token is None:
        return _login_page(request, console, 401, "Wrong e-mail or password.")
    response = redirect("/queue")
    response.set_cookie(
        console.cookie_name, token, max_age=int(settings.session_hours * 3600), path=PREFIX, httponly=True,
        samesite="lax", secure=settings.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(console: ConsoleDep, user: PostUserDep) -> Response:
    async with console.runtime.database.session() as session:
        await end_session(session, user.token_hash)
        record(session, "logout", user.id)
    response = redirect("/login")
    response.delete_cookie(console.cookie_name, path=PREFIX)
    return response
