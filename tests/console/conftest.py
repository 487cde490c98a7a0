"""Console test setup: the real application (console mounted) on a real database, with a scripted engine."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.console.security import hash_password
from bot.core.conversation import ConversationService
from bot.core.events import InProcessEventBus
from bot.core.locks import InProcessKeyedLock
from bot.core.messages import InboundMessage
from bot.core.outbox import OutboxDispatcher
from bot.handoff import cases
from bot.handoff.attachments import CaseAttachmentStore
from bot.handoff.models import Case, CaseTrigger, Coordinator, Role
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import ScriptedEngine

PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleHarness:
    """The application under test, its runtime and the scripted dialogue engine."""

    app: FastAPI
    runtime: Runtime
    engine: ScriptedEngine

    @property
    def database(self) -> Database:
        return self.runtime.database

    def client(self, base_url: str = "http://testserver") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False)

    async def coordinator(self, email: str, role: Role = Role.COORDINATOR, password: str = PASSWORD,
                          name: str | None = None) -> int:
        async with self.database.session() as session:
            row = Coordinator(email=email, display_name=name or email.split("@")[0],
                              password_hash=hash_password(password), role=role)
            session.add(row)
            await session.flush()
            return row.id

    async def patient_case(self, external_id: str, text: str = "I need a human", language: str = "en",
                           intake: dict[str, str] | None = None) -> Case:
        """A REST patient who wrote ``text`` and has an open case (as the handoff flow opens it)."""
        result = await self.runtime.conversations.handle(
            InboundMessage("rest", external_id, text, language_hint=language)
        )
        async with self.database.session() as session:
            case, _ = await cases.open_case(
                session, result.patient_id, CaseTrigger.REQUEST_HUMAN, language,
                intake=intake, consent_at=cases.utcnow() if intake else None,
                settings=self.runtime.settings.console,
            )
            return case


def build_harness(database_url: str, engine: ScriptedEngine, environment: str = "test",
                  **overrides: object) -> ConsoleHarness:
    settings = Settings(environment=environment, database={"url": database_url}, **overrides)
    database = Database(database_url)
    events = InProcessEventBus()
    locks = InProcessKeyedLock()
    conversations = ConversationService(database, engine, events, locks, tuple(settings.languages), "en")
    conversations.attachments = CaseAttachmentStore(database, settings.attachments_max_bytes)
    outbox = OutboxDispatcher(database, {})
    runtime = Runtime(settings, database, engine, events, locks, conversations, outbox)  # type: ignore[arg-type]
    return ConsoleHarness(create_app(settings, runtime), runtime, engine)


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2 parameters: tests log in hundreds of times on two shared cores."""
    from argon2 import PasswordHasher

    from bot.console import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
async def harness(database_url: str, engine: ScriptedEngine) -> AsyncIterator[ConsoleHarness]:
    built = build_harness(database_url, engine)
    yield built
    await built.database.dispose()


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Fill and post the login form like a browser (the form's token comes with the page)."""
    page = await client.get("/console/login")
    return await client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)}
    )


async def session_csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token of the signed-in session (from any console page)."""
    page = await client.get("/console/queue")
    assert page.status_code == 200, page.status_code
    return csrf_of(page.text)


@pytest.fixture
async def signed_in(harness: ConsoleHarness) -> AsyncIterator[tuple[httpx.AsyncClient, str, int]]:
    """A coordinator signed in: (client, session csrf token, coordinator id)."""
    coordinator_id = await harness.coordinator("ana@example.org", name="Ana")
    async with harness.client() as client:
        response = await login(client, "ana@example.org")
        assert response.status_code == 303
        yield client, await session_csrf(client), coordinator_id
