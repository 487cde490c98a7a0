"""The first-run demo account (development only): so a fresh checkout can open the console at once."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.console.coordinators import create_coordinator
from bot.handoff.models import Coordinator, Role
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.database import Database

logger = logging.getLogger(__name__)

DEMO_EMAIL = "demo@medconcierge.local"


async def ensure_demo_account(settings: Settings, database: Database) -> str | None:
    """Create the demo admin when no account exists, in development only; returns its password once."""
    if settings.environment != "development":
        return None
    password = secrets.token_urlsafe(12)
    async with database.session() as session:
        if (await session.execute(select(Coordinator.id).limit(1))).first() is not None:
            return None
        await create_coordinator(session, DEMO_EMAIL, "Demo coordinator", password, Role.ADMIN, None)
    # Printed once, on purpose: the only way to learn the random password of the demo account.
    logger.warning("console demo account created (development only): %s / %s — log in at /console",
                   DEMO_EMAIL, password)
    return password


def ensure_demo_account_job(runtime: Runtime) -> Callable[[], Coroutine[Any, Any, None]]:
    """A one-shot start-up job for the application's lifespan."""

    async def job() -> None:
        try:
            await ensure_demo_account(runtime.settings, runtime.database)
        except IntegrityError:
            pass  # another worker process created it at the same moment
        except Exception:  # a missing table must not stop the application; the log says why
            logger.exception("could not create the console demo account (run `python -m bot migrate`)")

    return job
