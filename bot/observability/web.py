"""HTTP side of observability: ``/metrics`` (Prometheus) and request ids on every request."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from bot.observability.logging import request_id
from bot.runtime import Runtime


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Add ``GET /metrics``, the request-id middleware and (when configured) the daily retention job."""
    if runtime.settings.retention_days is not None:
        from bot.observability.retention import retention_job

        days = runtime.settings.retention_days
        runtime.background_jobs["retention"] = lambda: retention_job(runtime.database, days)

    @app.middleware("http")
    async def with_request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        token = request_id.set(rid[:64])
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid[:64]
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest()
        return Response(body, media_type=CONTENT_TYPE_LATEST)
