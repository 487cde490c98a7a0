"""SQLAlchemy models of cases, coordinators, console sessions, notes, attachments and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base, Conversation, Patient, utcnow


class Role(enum.StrEnum):
    """What a console user may do: coordinators work cases, admins also manage coordinators."""

    COORDINATOR = "coordinator"
    ADMIN = "admin"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_FOR_PATIENT = "waiting_for_patient"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseStage(enum.StrEnum):
    """The agency pipeline of seed 000.

    intake → records → pre-assessment and cost estimate → visa letter → travel → treatment → follow-up.
    """

    INTAKE = "intake"
    RECORDS = "records"
    PRE_ASSESSMENT = "pre_assessment"
    VISA_LETTER = "visa_letter"
    TRAVEL = "travel"
    TREATMENT = "treatment"
    FOLLOW_UP = "follow_up"


class CasePriority(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CaseTrigger(enum.StrEnum):
    """Why the case was opened."""

    REQUEST_HUMAN = "request_human"
    SERVICE_REQUEST = "service_request"
    FALLBACK = "fallback"
    EMERGENCY = "emergency"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, values_callable=lambda members: [m.value for m in members])


class Coordinator(Base):
    """A console user."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.COORDINATOR)
    active: Mapped[bool] = mapped_column(default=True)
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    """Every console login attempt, for the lockout (5 failures in 5 minutes)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A server-side console session; the cookie holds only a random token whose hash is the key."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    coordinator: Mapped[Coordinator] = relationship()


class Case(Base):
    """A patient's request handled by humans; ``number`` is what the patient and coordinators quote."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_sla_due_at", "status", "sla_due_at"),
        Index("ix_cases_patient_id_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.NEW)
    stage: Mapped[CaseStage] = mapped_column(_enum(CaseStage), default=CaseStage.INTAKE)
    priority: Mapped[CasePriority] = mapped_column(_enum(CasePriority), default=CasePriority.NORMAL)
    trigger: Mapped[CaseTrigger] = mapped_column(_enum(CaseTrigger))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"), index=True)
    # Intake answers (health data: stored only after explicit consent): name, country, treatment,
    # preferred_place, travel_window, contact.
    intake: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    conversation: Mapped[Conversation] = relationship()
    assignee: Mapped[Coordinator | None] = relationship()
    notes: Mapped[list[CaseNote]] = relationship(cascade="all, delete-orphan", order_by="CaseNote.id")
    attachments: Mapped[list[CaseAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="CaseAttachment.id"
    )


class CaseNote(Base):
    """An internal note on a case: never sent to the patient."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseAttachment(Base):
    """A file the patient sent (records, reports, images), stored in the database with its case."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One coordinator (or system) action. Holds no health data, so it survives erasure."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    case_number: Mapped[str | None] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
