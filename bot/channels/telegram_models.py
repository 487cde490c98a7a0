"""Telegram channel storage: long button payloads behind short callback keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class TelegramCallbackPayload(Base):
    """A button payload too long for Telegram's 64-byte ``callback_data``, stored under a short key.

    The key is derived from the payload (a hash), so the same payload always maps to one row.
    """

    __tablename__ = "telegram_callback_payloads"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
