"""SQLAlchemy 2 models of the conversation core.

Every schema change goes through an Alembic migration in ``bot/storage/migrations``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


def new_sender_id() -> str:
    """An opaque id for the dialogue engine, unrelated to the channel's user id."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Direction(enum.StrEnum):
    """Whether a message came from the patient or went to them."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(enum.StrEnum):
    """Who wrote a message."""

    PATIENT = "patient"
    BOT = "bot"
    COORDINATOR = "coordinator"
    SYSTEM = "system"


class ConversationMode(enum.StrEnum):
    """Who answers the patient: the bot, or a human coordinator who owns the conversation."""

    BOT = "bot"
    HUMAN = "human"


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outbound message queued for a channel."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Patient(Base):
    """A person writing to us on one channel (one row per channel and external id)."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_patients_channel_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_sender_id)
    language: Mapped[str | None] = mapped_column(String(8))
    language_locked: Mapped[bool] = mapped_column(default=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    consent_given_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation | None] = relationship(
        back_populates="patient", cascade="all, delete-orphan", uselist=False
    )


class Conversation(Base):
    """The single running conversation of a patient, with who currently answers."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[ConversationMode] = mapped_column(
        Enum(ConversationMode, native_enum=False, length=16), default=ConversationMode.BOT
    )
    fallback_streak: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="conversation")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class Message(Base):
    """One message in or out. ``(channel, external_message_id)`` is unique: redelivery is a no-op."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_message_id", name="uq_messages_channel_external_message_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=16))
    author: Mapped[Author] = mapped_column(Enum(Author, native_enum=False, length=16))
    external_message_id: Mapped[str | None] = mapped_column(String(128))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    # Inbound only: set once the turn was answered; an unhandled message is retried.
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class OutboxItem(Base):
    """An outbound message waiting to be delivered by its channel; retried until sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=16), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship()


class UnansweredQuestion(Base):
    """A question the bot could not answer (fallback), for the console's report."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
