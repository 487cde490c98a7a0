"""The FastAPI application: REST channel, health, console and the channels that are configured."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.channels import rest
from bot.health import check_health
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def enabled_channels(settings: Settings) -> list[str]:
    """Names of the channels this configuration turns on (REST is always on)."""
    names = ["rest"]
    if settings.telegram.enabled:
        names.append("telegram")
    if settings.wechat.enabled:
        names.append("wechat")
    return names


# Feature modules, each exposing ``mount(app: FastAPI, runtime: Runtime) -> None``. A module that
# registers an outbound channel or a background job does it in ``mount`` through the runtime.
FEATURE_MODULES = (
    "bot.console.web",
    "bot.webchat.web",
    "bot.channels.telegram_web",
    "bot.channels.wechat_web",
    "bot.observability.web",
)


def mount_features(app: FastAPI, runtime: Runtime) -> list[str]:
    """Mount every feature module that exists in this build; return their names."""
    mounted = []
    for name in FEATURE_MODULES:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None or importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).mount(app, runtime)
        mounted.append(name)
    return mounted


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the application for ``settings`` (defaults: config.yml + environment)."""
    settings = settings or get_settings()
    if settings.environment != "test":  # tests keep pytest's own log capture
        from bot.observability.logging import configure_logging

        configure_logging(settings.log_level)
    runtime = runtime or build_runtime(settings)
    runtime.outbox.register(rest.RestOutbound())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("channels on: %s", ", ".join(enabled_channels(settings)))
        tasks = [asyncio.create_task(runtime.outbox.run(), name="outbox")]
        tasks += [asyncio.create_task(job(), name=name) for name, job in runtime.background_jobs.items()]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for hook in runtime.shutdown_hooks:
                await hook()
            await runtime.aclose()

    app = FastAPI(title="MedConcierge", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.include_router(rest.build_router(runtime))
    mount_features(app, runtime)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        report = await check_health(runtime)
        healthy = all(value == "ok" for value in report.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", **report}, status_code=200 if healthy else 503)

    return app
