"""Channel-neutral message types exchanged between channels, the core and the dialogue engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A quick reply: what the patient sees and what is sent back when pressed."""

    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Attachment:
    """A file the patient sent (already downloaded by the channel)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    """A message from a patient, as parsed and verified by a channel."""

    channel: str
    external_user_id: str
    text: str
    external_message_id: str | None = None
    language_hint: str | None = None
    display_name: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass
class OutboundMessage:
    """One reply to a patient. ``custom`` carries machine-readable markers (kb_id, emergency, handoff)."""

    text: str | None = None
    buttons: list[Button] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)

    def as_rest(self, recipient_id: str) -> dict[str, Any]:
        """The Rasa-compatible REST shape: recipient_id, text, buttons?, custom?."""
        body: dict[str, Any] = {"recipient_id": recipient_id}
        if self.text is not None:
            body["text"] = self.text
        if self.buttons:
            body["buttons"] = [button.as_dict() for button in self.buttons]
        if self.custom:
            body["custom"] = self.custom
        return body


@dataclass
class TurnResult:
    """What the core did with one inbound message."""

    replies: list[OutboundMessage]
    patient_id: int
    conversation_id: int
    language: str
    duplicate: bool = False
