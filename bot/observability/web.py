"""HTTP side of observability: ``/metrics`` (Prometheus) and request ids on every request."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.observability.logging import request_id
from bot.runtime import Runtime


class RequestIdMiddleware:
    """Every request gets an id (the caller's ``X-Request-ID`` or a new one) for its log lines and response.

    Pure ASGI: the handler runs in the same task (the id is in its context) and streams stay streaming.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = (Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex[:16])[:64]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Add ``GET /metrics``, the request-id middleware and (when configured) the daily retention job."""
    if runtime.settings.retention_days is not None:
        from bot.observability.retention import retention_job

        days = runtime.settings.retention_days
        runtime.background_jobs["retention"] = lambda: retention_job(runtime.database, days)

    app.add_middleware(RequestIdMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest()
        return Response(body, media_type=CONTENT_TYPE_LATEST)
