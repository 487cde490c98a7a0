"""Fixtures of the web chat tests: the application served by a real uvicorn on loopback (for streaming)."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import create_app
from tests.conftest import ScriptedEngine, make_runtime
from tests.e2e.stack import RunningStack, free_port, start_stack


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


@pytest.fixture
async def served(database_url: str, engine: ScriptedEngine) -> AsyncIterator[Served]:
    """ASGITransport buffers whole responses, so event streams are tested against a real server."""
    runtime = make_runtime(database_url, engine)
    app = create_app(runtime.settings, runtime)
    port = free_port()
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


@dataclass
class HostSite:
    """A hospital's page on another origin that embeds the chat with the widget's script tag."""

    origin: str
    port: int


@pytest.fixture(scope="session")
def host_site_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def chat_stack(tmp_path_factory: pytest.TempPathFactory, host_site_port: int) -> Iterator[RunningStack]:
    """The real stack (action server, Rasa, application) for the browser and terminal chat tests.

    The host site's origin is allowed (CORS and frame-ancestors), as a hospital's would be in config.yml.
    """
    origins = json.dumps([f"http://127.0.0.1:{host_site_port}"])
    running = start_stack(Path(tmp_path_factory.mktemp("webchat-stack")), MC_HTTP__CORS_ORIGINS=origins)
    yield running
    running.stack.stop()


@pytest.fixture(scope="session")
def host_site(chat_stack: RunningStack, host_site_port: int) -> Iterator[HostSite]:
    """Serves one page with ``<script src=".../webchat/widget.js">`` on the allowed origin."""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Example hospital</title></head>"
        "<body><h1>Example hospital</h1><p>International department.</p>"
        f"<script src='{chat_stack.url}/webchat/widget.js' data-language='en' async></script></body></html>"
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", host_site_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HostSite(f"http://127.0.0.1:{host_site_port}", host_site_port)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def console_admin(chat_stack: RunningStack) -> tuple[str, str]:
    """A console admin on the stack's database, created with the real CLI (``python -m bot create-admin``)."""
    email, password = "webchat-admin@example.org", "webchat e2e password " + os.urandom(4).hex()
    env = {**os.environ, "MC_ENVIRONMENT": "test", "MC_DATABASE__URL": chat_stack.settings.database_url,
           "MC_ADMIN_PASSWORD": password}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-admin", "--email", email, "--name", "Li (coordinator)"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return email, password
