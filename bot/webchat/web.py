"""Mounts the web chat: the page (``/`` and ``/chat``), the widget script, history and the live stream.

The page talks to the existing REST channel (``POST /webhooks/rest/webhook``); this module adds only
what a browser needs around it. CORS is off unless ``http.cors_origins`` lists origins, and then it
covers the REST webhook and ``/webchat/*`` only (never the console).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.i18n import is_rtl
from bot.runtime import Runtime
from bot.webchat.cors import install_cors
from bot.webchat.stream import patient_stream
from bot.webchat.texts import NATIVE_NAMES, all_labels, labels
from bot.webchat.transcript import conversation_of, history

HERE = Path(__file__).resolve().parent
STATIC_PREFIX = "/webchat/static"
SenderQuery = Annotated[str, Query(min_length=1, max_length=128)]
SSE_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}
NO_STORE = {"cache-control": "no-store"}
LANGUAGE_PAYLOAD = '/choose_language{{"ui_language":"{code}"}}'  # the dialogs' language buttons (core.yml)


def build_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=env)


def page_language(request: Request, wanted: str | None, languages: list[str], default: str) -> str:
    """``?lang=`` when supported, else the browser's Accept-Language, else the default."""
    if wanted in languages and wanted is not None:
        return wanted
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in languages:
            return code
    return default


def content_security_policy(frame_ancestors: list[str]) -> str:
    """The page's CSP: own scripts only, no inline code; who may frame it."""
    ancestors = " ".join(["'self'", *frame_ancestors])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


def build_router(runtime: Runtime, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    settings = runtime.settings
    origins = list(settings.http.cors_origins)
    strings = json.dumps(all_labels(settings.languages), ensure_ascii=False)
    picker = [(code, NATIVE_NAMES[code]) for code in settings.languages]
    payloads = {code: LANGUAGE_PAYLOAD.format(code=code) for code in settings.languages}

    async def page(request: Request, lang: str | None, embed: int) -> Response:
        language = page_language(request, lang, settings.languages, settings.default_language)
        response = templates.TemplateResponse(request, "chat.html", {
            "language": language, "dir": "rtl" if is_rtl(language) else "ltr", "t": labels(language),
            "picker": picker, "strings": strings, "payloads": json.dumps(payloads, ensure_ascii=False),
            "embed": bool(embed), "static": STATIC_PREFIX, "default_language": settings.default_language,
        })
        # Only the embedded page may be framed by the configured sites; the full page by this origin alone.
        response.headers["content-security-policy"] = content_security_policy(origins if embed else [])
        response.headers["referrer-policy"] = "no-referrer"
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["cache-control"] = "no-store"
        return response

    @router.get("/", response_class=HTMLResponse)
    async def root(request: Request, lang: Annotated[str | None, Query(max_length=8)] = None,
                   embed: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
        return await page(request, lang, embed)

    @router.get("/chat", response_class=HTMLResponse)
    async def chat(request: Request, lang: Annotated[str | None, Query(max_length=8)] = None,
                   embed: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
        return await page(request, lang, embed)

    @router.get("/webchat/widget.js")
    async def widget() -> Response:
        return FileResponse(HERE / "static" / "widget.js", media_type="text/javascript",
                            headers={"cache-control": "public, max-age=300"})

    @router.get("/webchat/history")
    async def transcript(sender: SenderQuery) -> JSONResponse:
        async with runtime.database.session() as session:
            conversation_id = await conversation_of(session, sender)
            messages = [] if conversation_id is None else await history(session, conversation_id)
        return JSONResponse({"messages": messages}, headers=NO_STORE)

    @router.get("/webchat/stream")
    async def stream(
        sender: SenderQuery, after: Annotated[int | None, Query(ge=0)] = None,
        last_event_id: Annotated[str | None, Header(max_length=32)] = None,
    ) -> StreamingResponse:
        # The browser's automatic reconnect sends Last-Event-ID: resume after it.
        if last_event_id is not None and last_event_id.isdigit():
            after = int(last_event_id)
        return StreamingResponse(patient_stream(runtime, sender, after), media_type="text/event-stream",
                                 headers=SSE_HEADERS)

    return router


def mount(app: FastAPI, runtime: Runtime) -> None:
    """The chat page, its static files, the widget script, history and stream; CORS when configured."""
    app.include_router(build_router(runtime, build_templates()))
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="webchat-static")
    install_cors(app, runtime.settings.http.cors_origins)
