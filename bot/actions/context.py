"""What actions share: the patient's language from message metadata and a database handle."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy import select

from bot.settings import get_settings
from bot.storage.database import Database
from bot.storage.models import Patient


@lru_cache(maxsize=1)
def database() -> Database:
    """The action server's own engine on the application database."""
    settings = get_settings()
    return Database(settings.database_url)


def language_of(tracker: Tracker) -> str:
    """The language the application chose for this turn (sent as message metadata)."""
    settings = get_settings()
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata: dict[str, Any] = event.get("metadata") or {}
            language = metadata.get("language")
            if language in settings.languages:
                return str(language)
            break
    return settings.default_language


async def patient_of(tracker: Tracker) -> Patient | None:
    """The patient behind this Rasa conversation (sender id), if known to the application."""
    async with database().session() as session:
        query = select(Patient).where(Patient.sender_id == tracker.sender_id)
        return (await session.execute(query)).scalar_one_or_none()
