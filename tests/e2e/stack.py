"""Start the real stack (action server, Rasa, application) on free loopback ports for a test run."""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.settings import Settings
from bot.stack import Stack, build_stack, child_environment

# Below Linux's ephemeral range (32768-60999): a port picked there cannot be taken by an outgoing
# connection while Rasa loads its model (seconds) before it binds the port.
SERVICE_PORTS = range(20000, 32000)


def free_port() -> int:
    """A loopback port that is free now, outside the range outgoing connections draw from."""
    for _ in range(200):
        port = random.choice(SERVICE_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def stack_environment(work: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """MC_* variables for an isolated stack under ``work`` (its own ports, databases and logs)."""
    env = {
        "MC_ENVIRONMENT": "test",
        "MC_VAR_DIR": str(work),
        "MC_DATABASE__URL": database_url or f"sqlite:///{work / 'app.db'}",
        "MC_RASA__PORT": str(free_port()),
        "MC_RASA__TRACKER_STORE_URL": f"sqlite:///{work / 'tracker.db'}",
        "MC_ACTIONS__PORT": str(free_port()),
        "MC_HTTP__PORT": str(free_port()),
    }
    env.update(extra)
    return env


@dataclass
class RunningStack:
    """A started stack and a REST client for it."""

    stack: Stack
    settings: Settings

    @property
    def url(self) -> str:
        return self.stack.app_url

    def say(self, sender: str, message: str, **metadata: Any) -> list[dict[str, Any]]:
        """One REST turn; returns the reply list (asserting HTTP 200)."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=30.0)
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies


def start_stack(work: Path, database_url: str | None = None, workers: int = 1, **extra: str) -> RunningStack:
    """Build and start a stack isolated under ``work``; the caller stops it."""
    work.mkdir(parents=True, exist_ok=True)
    variables = stack_environment(work, database_url, **extra)
    previous = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        settings = Settings()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    env = child_environment(settings, variables)
    env["MC_RASA_TOKEN"] = env.get("MC_RASA_TOKEN") or "test-token-" + os.urandom(8).hex()
    stack = build_stack(settings, env, work / "run", workers=workers)
    try:
        stack.start()
    except Exception:
        stack.stop()
        raise
    return RunningStack(stack, settings)
