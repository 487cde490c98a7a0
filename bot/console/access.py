"""Who may see which case.

Rule (decided for the console): an admin sees every case; a coordinator sees the unassigned cases
(the shared queue they claim from) and the cases assigned to them, never a colleague's case. Health
data is shared on a need-to-know basis (PIPL), and a case changes hands only through an explicit
assignment (by its assignee or an admin). Invisible cases answer 404, so ids reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.sessions import ConsoleUser
from bot.handoff.models import Case


class NotVisible(LookupError):
    """The case does not exist or the user may not see it (both look the same from outside)."""


def visible_clause(user: ConsoleUser) -> ColumnElement[bool]:
    """SQL condition on ``Case`` for the cases ``user`` may see."""
    if user.is_admin:
        return true()
    return or_(Case.assignee_id.is_(None), Case.assignee_id == user.id)


def can_see(user: ConsoleUser, case: Case) -> bool:
    return user.is_admin or case.assignee_id is None or case.assignee_id == user.id


def can_work(user: ConsoleUser, case: Case) -> bool:
    """Replying, notes and state changes: the assignee or an admin (claim first otherwise)."""
    return user.is_admin or case.assignee_id == user.id


async def visible_case(session: AsyncSession, user: ConsoleUser, case_id: int, *options: Any) -> Case:
    """Load a case the user may see, or raise ``NotVisible``."""
    query = select(Case).where(Case.id == case_id, visible_clause(user))
    if options:
        query = query.options(*options)
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise NotVisible(case_id)
    return case
