"""Fixtures of the web chat tests: the application served by a real uvicorn on loopback (for streaming)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import create_app
from tests.conftest import ScriptedEngine, make_runtime


@dataclass
class Served:
    """An application listening on loopback, its runtime and a client for it."""

    url: str
    runtime: Any
    client: httpx.AsyncClient

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = await self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def served(database_url: str, engine: ScriptedEngine) -> AsyncIterator[Served]:
    """ASGITransport buffers whole responses, so event streams are tested against a real server."""
    runtime = make_runtime(database_url, engine)
    app = create_app(runtime.settings, runtime)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        yield Served(url, runtime, client)
    server.should_exit = True
    await asyncio.wait_for(task, 10)
