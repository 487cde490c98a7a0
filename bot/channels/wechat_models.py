"""Short-lived state of the WeChat channel in the database (used when no Redis is configured).

One key/value table with an expiry serves every job the channel needs shared between workers:
replayed-nonce detection (insert-if-absent), the access token (wechatpy session storage), the
numbered options last offered to a patient, and per-message answer decisions (passive or
customer-service API). Redis replaces it in production (``settings.redis.url``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class WeChatState(Base):
    """One key with a JSON value; a row past ``expires_at`` counts as absent and is purged lazily."""

    __tablename__ = "wechat_state"
    __table_args__ = (Index("ix_wechat_state_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
