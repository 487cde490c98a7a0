"""The audit log: one row per coordinator or system action, never with health data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.models import AuditEvent


def record(
    session: AsyncSession,
    action: str,
    actor_id: int | None = None,
    case_number: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction. ``details`` must hold ids and states only."""
    event = AuditEvent(action=action, actor_id=actor_id, case_number=case_number, details=details)
    session.add(event)
    return event
