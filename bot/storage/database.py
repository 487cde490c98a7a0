"""Database engines and sessions (async for the application, sync for migrations and CLI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    """Map a configured (sync-style) URL to its asyncio driver."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sync_url(url: str) -> str:
    """Map a configured URL to a synchronous driver (Alembic, CLI)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url.replace("sqlite+aiosqlite:", "sqlite:")


# Connections to one SQLite file. SQLite lets one writer in at a time and makes the others retry in
# sleeps of up to 100 ms, where late arrivals can overtake: with SQLAlchemy's default 5 + 10
# connections, one write under 40 concurrent WeChat senders sometimes waited over 1.5 s. With four,
# the others queue in the pool, first come first served (same run: the slowest write ~0.1 s, the
# patient's answer p99 2.8 s -> 1.5 s).
SQLITE_POOL_SIZE = 4
# The longest wait for one of them, as long as SQLite's own busy timeout (5 s, the pragmas below).
SQLITE_POOL_TIMEOUT_SECONDS = 5.0

# The database cannot serve now: down, locked (DBAPIError, OperationalError among them), or every
# pooled connection busy past the pool timeout.
# Webhooks answer these with 503, so Telegram and WeChat deliver the message again.
STORAGE_UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout)


def _pool_options(url: str) -> dict[str, float]:
    """A small, fixed pool for a SQLite file; the driver's defaults otherwise."""
    if url.startswith("sqlite") and ":memory:" not in url:
        return {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0, "pool_timeout": SQLITE_POOL_TIMEOUT_SECONDS}
    return {}


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":memory:" not in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def install_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on, WAL, and a busy timeout on every SQLite connection."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


class Database:
    """One async engine and its session factory."""

    def __init__(self, url: str, echo: bool = False) -> None:
        _ensure_sqlite_dir(url)
        self.url = url
        # A server connection can drop (PostgreSQL restarted): test it on checkout. A SQLite file cannot.
        pre_ping = not url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), echo=echo, pool_pre_ping=pre_ping, **_pool_options(url)
        )
        install_sqlite_pragmas(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        from sqlalchemy import text

        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
