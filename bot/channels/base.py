"""The interface every channel implements for outbound delivery, and its delivery errors."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import OutboundMessage


class DeliveryError(Exception):
    """Base class of outbound delivery failures."""


class TransientDeliveryError(DeliveryError):
    """Try again later (network error, server error); ``retry_after`` in seconds when the API said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RecipientUnreachable(DeliveryError):
    """The patient cannot be reached on this channel (blocked the bot, outside the reply window)."""


class OutboundChannel(Protocol):
    """A channel that can send a message to a patient on its own initiative (coordinator replies)."""

    name: str

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        """Send ``message``; raise a ``DeliveryError`` subclass when it could not be sent."""
        ...
