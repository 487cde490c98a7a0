"""Persistent outbox: messages a coordinator (or a late answer) sends, retried until delivered once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.channels.base import OutboundChannel, RecipientUnreachable, TransientDeliveryError
from bot.observability import metrics
from bot.storage.conversations import to_outbound
from bot.storage.database import Database
from bot.storage.models import Conversation, Message, OutboxItem, OutboxStatus, Patient, utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 2.0
# Patients served at once by one pass (each patient's own messages still go one after the other).
DELIVERY_CONCURRENCY = 8


def enqueue(session: AsyncSession, message: Message) -> OutboxItem:
    """Queue an already-stored outbound message for delivery on its channel (same transaction)."""
    item = OutboxItem(message=message, channel=message.channel)
    session.add(item)
    return item


class OutboxDispatcher:
    """Delivers pending outbox items through the registered channels, with backoff."""

    def __init__(self, database: Database, channels: dict[str, OutboundChannel], poll_seconds: float = 0.5) -> None:
        self._db = database
        self._channels = channels
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()

    def register(self, channel: OutboundChannel) -> None:
        self._channels[channel.name] = channel

    def wake(self) -> None:
        """Deliver now instead of at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Loop forever (cancel to stop)."""
        while True:
            try:
                await self.deliver_due()
            except Exception:  # the loop must survive a database blip
                logger.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
            self._wakeup.clear()

    async def deliver_due(self, limit: int = 50) -> int:
        """Try every due item once; return how many were sent."""
        async with self._db.session() as session:
            query = (
                select(OutboxItem)
                .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= utcnow())
                .order_by(OutboxItem.id)
                .limit(limit)
                .options(selectinload(OutboxItem.message).selectinload(Message.conversation)
                         .selectinload(Conversation.patient))
            )
            if self._db.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            items = list((await session.execute(query)).scalars())
            depth = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING)
            metrics.OUTBOX_DEPTH.set((await session.execute(depth)).scalar_one())
            # One patient's messages go out in order; different patients' go out side by side.
            by_conversation: dict[int, list[OutboxItem]] = {}
            for item in items:
                if item.channel in self._channels:
                    by_conversation.setdefault(item.message.conversation_id, []).append(item)
            gate = asyncio.Semaphore(DELIVERY_CONCURRENCY)

            async def deliver_in_order(queue: list[OutboxItem]) -> int:
                async with gate:
                    return sum([await self._deliver(item) for item in queue])

            sent = sum(await asyncio.gather(*(deliver_in_order(q) for q in by_conversation.values())))
        return sent

    async def _deliver(self, item: OutboxItem) -> bool:
        """Try one item; record the outcome on it (written when the pass commits). True when sent."""
        channel = self._channels[item.channel]
        patient: Patient = item.message.conversation.patient
        item.attempts += 1
        try:
            await channel.deliver(patient.external_id, to_outbound(item.message))
        except RecipientUnreachable as exc:
            item.status = OutboxStatus.FAILED
            item.last_error = str(exc)[:500]
            patient.unreachable_reason = str(exc)[:200]
        except TransientDeliveryError as exc:
            item.last_error = str(exc)[:500]
            self._reschedule(item, exc.retry_after)
        except Exception as exc:  # unknown errors are retried, never lost
            logger.exception("outbox delivery failed")
            item.last_error = f"{type(exc).__name__}"[:500]
            self._reschedule(item, None)
        else:
            metrics.OUTBOX_SENT.labels(item.channel).inc()
            item.status = OutboxStatus.SENT
            patient.unreachable_reason = None
            return True
        return False

    @staticmethod
    def _reschedule(item: OutboxItem, retry_after: float | None) -> None:
        metrics.OUTBOX_RETRIES.labels(item.channel).inc()
        if item.attempts >= MAX_ATTEMPTS:
            item.status = OutboxStatus.FAILED
            return
        delay = retry_after if retry_after is not None else BASE_BACKOFF_SECONDS * 2 ** (item.attempts - 1)
        item.next_attempt_at = utcnow() + timedelta(seconds=delay)
