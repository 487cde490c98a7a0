"""Where files sent by patients go: the handoff package stores them on the patient's open case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import Attachment


@dataclass(frozen=True)
class AttachmentOutcome:
    """What happened to one attachment; ``reason`` is a gettext msgid for the patient when rejected."""

    stored: bool
    reason: str | None = None


class AttachmentStore(Protocol):
    """Stores a patient's file on their open case, or says why it cannot."""

    async def store(self, patient_id: int, attachment: Attachment) -> AttachmentOutcome: ...
