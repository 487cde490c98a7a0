"""Console accounts: create, change role, (de)activate, reset password (used by admin pages and the CLI)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.security import check_password_strength, hash_password
from bot.console.sessions import end_all_sessions, normalize_email
from bot.handoff.audit import record
from bot.handoff.models import Coordinator, Role


class AccountError(ValueError):
    """A console account change that cannot be made (message names the problem)."""


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError("enter a valid e-mail address")
    return email


async def create_coordinator(
    session: AsyncSession, email: str, display_name: str, password: str, role: Role, actor_id: int | None,
) -> Coordinator:
    """A new active account; refuses a taken e-mail or a weak password."""
    email = _valid_email(email)
    check_password_strength(password)
    if (await session.execute(select(Coordinator.id).where(Coordinator.email == email))).first():
        raise AccountError(f"an account for {email} already exists")
    coordinator = Coordinator(
        email=email, display_name=(display_name.strip() or email.split("@")[0])[:200],
        password_hash=hash_password(password), role=role, active=True,
    )
    session.add(coordinator)
    await session.flush()
    record(session, "coordinator_created", actor_id, details={"coordinator_id": coordinator.id, "role": role.value})
    return coordinator


async def _active_admins(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Coordinator).where(
        Coordinator.role == Role.ADMIN, Coordinator.active.is_(True)
    )
    return int((await session.execute(query)).scalar_one())


async def _get(session: AsyncSession, coordinator_id: int) -> Coordinator:
    coordinator = await session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise AccountError("no such account")
    return coordinator


async def set_active(session: AsyncSession, coordinator_id: int, active: bool, actor_id: int) -> None:
    """(De)activate an account; deactivation signs it out everywhere. The last admin stays active."""
    coordinator = await _get(session, coordinator_id)
    if not active and coordinator.role is Role.ADMIN and coordinator.active and await _active_admins(session) <= 1:
        raise AccountError("the last active admin cannot be deactivated")
    coordinator.active = active
    if not active:
        await end_all_sessions(session, coordinator.id)
    record(session, "coordinator_activated" if active else "coordinator_deactivated", actor_id,
           details={"coordinator_id": coordinator.id})


async def set_role(session: AsyncSession, coordinator_id: int, role: Role, actor_id: int) -> None:
    coordinator = await _get(session, coordinator_id)
    if coordinator.role is Role.ADMIN and role is not Role.ADMIN and await _active_admins(session) <= 1:
        raise AccountError("the last admin keeps the admin role")
    coordinator.role = role
    record(session, "coordinator_role_changed", actor_id, details={"coordinator_id": coordinator.id,
                                                                    "role": role.value})


async def reset_password(session: AsyncSession, coordinator_id: int, password: str, actor_id: int | None) -> None:
    """Set a new password and sign the account out everywhere."""
    check_password_strength(password)
    coordinator = await _get(session, coordinator_id)
    coordinator.password_hash = hash_password(password)
    await end_all_sessions(session, coordinator.id)
    record(session, "coordinator_password_reset", actor_id, details={"coordinator_id": coordinator.id})
