"""Shared fixtures: databases on SQLite and on the real PostgreSQL, and a scripted dialogue engine."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.core.engine import EngineUnavailable
from bot.core.messages import OutboundMessage
from bot.storage.database import Database
from bot.storage.migrate import upgrade

# The machine's PostgreSQL (trust auth). Each test session works in its own database created
# from this entry point, so parallel runs never see each other's rows.
POSTGRES_ADMIN_URL = os.environ.get("MC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("MC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def throwaway_postgres_database(prefix: str = "mc_test") -> Iterator[str]:
    """Create an empty PostgreSQL database on the machine's server, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this session; fails (never skips) when PostgreSQL is down."""
    with throwaway_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both embedded SQLite and the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        upgrade(url)
        return url
    url: str = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


def _truncate_all(url: str) -> None:
    from bot.storage import all_models  # noqa: F401
    from bot.storage.database import sync_url
    from bot.storage.models import Base

    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


class ScriptedEngine:
    """A dialogue engine for unit tests: records calls and answers from a script or a function."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answer = answer
        self.down = False

    async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        self.calls.append((sender_id, text, metadata))
        if self.down:
            raise EngineUnavailable("scripted outage")
        if callable(self.answer):
            result: list[OutboundMessage] = self.answer(sender_id, text, metadata)
            return result
        return [OutboundMessage(text=f"echo: {text}", custom={"lang": metadata.get("language")})]

    async def healthy(self) -> bool:
        return not self.down

    async def intent_of(self, text: str) -> tuple[str | None, float]:
        self.parsed = [*getattr(self, "parsed", []), text]
        return ("ask_status", 0.9) if "status" in text.lower() else ("out_of_scope", 0.8)

    async def forget(self, sender_id: str) -> None:
        self.forgotten = [*getattr(self, "forgotten", []), sender_id]

    async def aclose(self) -> None:
        return None


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine()


def make_runtime(database_url: str, engine: ScriptedEngine, **overrides: Any) -> Any:
    """A Runtime on ``database_url`` whose dialogue engine is ``engine`` (for app-level tests)."""
    from bot.core.conversation import ConversationService
    from bot.runtime import build_runtime
    from bot.settings import Settings

    settings = Settings(environment="test", database={"url": database_url}, **overrides)
    runtime = build_runtime(settings)
    runtime.engine = engine  # type: ignore[assignment]
    service: ConversationService = runtime.conversations
    service._engine = engine
    return runtime


@pytest.fixture
async def app_client(database_url: str, engine: ScriptedEngine) -> AsyncIterator[Any]:
    """An httpx client on the FastAPI app (lifespan running) with the scripted engine."""
    import httpx

    from bot.app import create_app

    runtime = make_runtime(database_url, engine)
    app = create_app(runtime.settings, runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.runtime = runtime  # type: ignore[attr-defined]
            yield client


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real stack (action server + Rasa + application) on free ports with SQLite, shared by the session."""
    from tests.e2e.stack import start_stack

    running = start_stack(Path(tmp_path_factory.mktemp("stack")))
    yield running
    running.stack.stop()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[Any]:
    """A real stack of this test's own (for tests that stop, kill or restart its processes)."""
    from tests.e2e.stack import start_stack

    running = start_stack(tmp_path / "own")
    yield running
    running.stack.stop()
