"""CORS for the REST webhook and the web chat endpoints, only when ``http.cors_origins`` is configured."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Paths a hospital's own page may call from another origin; the console is never among them.
CORS_PATHS = ("/webhooks/rest/", "/webchat/")


class PathScopedCORS:
    """Starlette's CORSMiddleware applied to :data:`CORS_PATHS` only; other paths pass untouched."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["content-type", "last-event-id"],
            allow_credentials=False, max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(CORS_PATHS):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_cors(app: FastAPI, origins: list[str]) -> bool:
    """Add the middleware when origins are configured (closed by default); True when added."""
    cleaned = [origin.rstrip("/") for origin in origins if origin.strip()]
    if not cleaned:
        return False
    app.add_middleware(PathScopedCORS, origins=cleaned)
    return True
