"""Console logins: lockout after repeated failures, server-side sessions keyed by a token's hash."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.security import hash_password, needs_rehash, new_token, token_digest, verify_password
from bot.handoff.models import ConsoleSession, Coordinator, LoginAttempt, Role
from bot.settings import ConsoleSettings
from bot.storage.models import utcnow

ATTEMPT_RETENTION_SECONDS = 24 * 3600


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in coordinator of one request."""

    id: int
    email: str
    display_name: str
    role: Role
    csrf_token: str
    token_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class LoginResult(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginOutcome:
    result: LoginResult
    coordinator: Coordinator | None = None


async def recent_failures(session: AsyncSession, email: str, settings: ConsoleSettings) -> int:
    """Failed attempts for ``email`` inside the lockout window and after its last successful login."""
    since = utcnow() - timedelta(seconds=settings.lockout_window_seconds)
    last_ok = (
        await session.execute(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(True))
        )
    ).scalar_one_or_none()
    if last_ok is not None and aware(last_ok) > since:
        since = aware(last_ok)
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == email, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
    )
    return int((await session.execute(query)).scalar_one())


async def authenticate(session: AsyncSession, email: str, password: str, settings: ConsoleSettings) -> LoginOutcome:
    """Check a login; every attempt is recorded, and a locked e-mail fails even with the right password."""
    email = normalize_email(email)[:254]
    locked = await recent_failures(session, email, settings) >= settings.lockout_attempts
    coordinator = (await session.execute(select(Coordinator).where(Coordinator.email == email))).scalar_one_or_none()
    # Verify even when locked or unknown, so timing does not reveal which case applies.
    matches = verify_password(coordinator.password_hash if coordinator else None, password)
    succeeded = matches and not locked and coordinator is not None and coordinator.active
    session.add(LoginAttempt(email=email, succeeded=succeeded))
    if locked:
        return LoginOutcome(LoginResult.LOCKED)
    if not succeeded or coordinator is None:
        return LoginOutcome(LoginResult.INVALID)
    if needs_rehash(coordinator.password_hash):
        coordinator.password_hash = hash_password(password)
    return LoginOutcome(LoginResult.OK, coordinator)


async def start_session(session: AsyncSession, coordinator_id: int, settings: ConsoleSettings) -> str:
    """Create a server-side session; returns the cookie token (only its hash is stored)."""
    token = new_token()
    now = utcnow()
    await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    # Attempts only matter inside the lockout window; logins themselves are in the audit log.
    keep_after = now - timedelta(seconds=max(settings.lockout_window_seconds, ATTEMPT_RETENTION_SECONDS))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < keep_after))
    session.add(
        ConsoleSession(
            token_hash=token_digest(token),
            coordinator_id=coordinator_id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    return token


async def resolve_session(session: AsyncSession, token: str | None) -> ConsoleUser | None:
    """The user of a cookie token, or None when missing, expired or deactivated."""
    if not token or len(token) > 128:
        return None
    return await resolve_digest(session, token_digest(token))


async def resolve_digest(session: AsyncSession, digest: str) -> ConsoleUser | None:
    """The user of a stored session hash (long-lived streams re-check their session with it)."""
    query = (
        select(ConsoleSession, Coordinator)
        .join(Coordinator, Coordinator.id == ConsoleSession.coordinator_id)
        .where(ConsoleSession.token_hash == digest)
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    console_session, coordinator = row
    if aware(console_session.expires_at) <= utcnow() or not coordinator.active:
        return None
    return ConsoleUser(
        id=coordinator.id,
        email=coordinator.email,
        display_name=coordinator.display_name,
        role=Role(coordinator.role),
        csrf_token=console_session.csrf_token,
        token_hash=console_session.token_hash,
    )


async def end_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


async def end_all_sessions(session: AsyncSession, coordinator_id: int) -> None:
    """Sign a coordinator out everywhere (password reset, deactivation)."""
    await session.execute(delete(ConsoleSession).where(ConsoleSession.coordinator_id == coordinator_id))
