"""Health of the application's dependencies: database, Rasa, action server."""

from __future__ import annotations

import httpx

from bot.runtime import Runtime


async def check_health(runtime: Runtime) -> dict[str, str]:
    """``ok`` or a short reason per dependency."""
    report: dict[str, str] = {}
    try:
        await runtime.database.ping()
        report["database"] = "ok"
    except Exception as exc:  # any failure is a health answer, not a crash
        report["database"] = f"error: {type(exc).__name__}"
    report["rasa"] = "ok" if await runtime.engine.healthy() else "unreachable"
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(f"{runtime.settings.actions.url}/health")
        report["action_server"] = "ok" if response.status_code == 200 else f"status {response.status_code}"
    except httpx.HTTPError:
        report["action_server"] = "unreachable"
    return report
