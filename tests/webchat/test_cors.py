"""CORS: closed unless configured; then open to the listed origins on the REST webhook and web chat only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import create_app
from tests.conftest import ScriptedEngine, make_runtime

HOSPITAL = "https://hospital.example"
PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}


@pytest.fixture
async def open_client(database_url: str, engine: ScriptedEngine) -> AsyncIterator[httpx.AsyncClient]:
    runtime = make_runtime(database_url, engine, http={"cors_origins": [HOSPITAL]})
    app = create_app(runtime.settings, runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_cors_is_closed_by_default(app_client: Any) -> None:
    headers = {"origin": HOSPITAL}
    preflight = await app_client.options("/webhooks/rest/webhook", headers={**headers, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    post = await app_client.post("/webhooks/rest/webhook", json={"sender": "c1", "message": "hi"}, headers=headers)
    assert post.status_code == 200
    assert "access-control-allow-origin" not in post.headers
    history = await app_client.get("/webchat/history?sender=c1", headers=headers)
    assert "access-control-allow-origin" not in history.headers


async def test_configured_origin_may_call_the_webhook_and_history(open_client: httpx.AsyncClient) -> None:
    headers = {"origin": HOSPITAL}
    preflight = await open_client.options("/webhooks/rest/webhook", headers={**headers, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == HOSPITAL
    assert "POST" in preflight.headers["access-control-allow-methods"]
    post = await open_client.post("/webhooks/rest/webhook", json={"sender": "c2", "message": "hi"}, headers=headers)
    assert post.headers["access-control-allow-origin"] == HOSPITAL
    history = await open_client.get("/webchat/history?sender=c2", headers=headers)
    assert history.headers["access-control-allow-origin"] == HOSPITAL


async def test_other_origins_and_other_paths_stay_closed(open_client: httpx.AsyncClient) -> None:
    evil = {"origin": "https://evil.example"}
    post = await open_client.post("/webhooks/rest/webhook", json={"sender": "c3", "message": "hi"}, headers=evil)
    assert "access-control-allow-origin" not in post.headers
    preflight = await open_client.options("/webhooks/rest/webhook", headers={**evil, **PREFLIGHT})
    assert preflight.headers.get("access-control-allow-origin") != "https://evil.example"
    # The console and the health check are never opened to other sites.
    for path in ("/healthz", "/console/login"):
        response = await open_client.get(path, headers={"origin": HOSPITAL})
        assert "access-control-allow-origin" not in response.headers, path
