"""The bot's Telegram commands: one table from command to conversation payload, plus the start card.

Commands are not answered by the channel: each maps to a payload that goes through the
conversation service like any message, so the dialogue (Rasa) and the transcript stay the single
source of truth. ``/start`` and ``/help`` additionally get a card from the channel: the consent
notice or the command list, with topic buttons (the welcome itself comes from the dialogue).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.messages import Button, OutboundMessage
from bot.i18n import N_, t


class Card(StrEnum):
    """What the channel adds after the dialogue's answer to a command."""

    START = "start"
    HELP = "help"


@dataclass(frozen=True)
class CommandSpec:
    """A Telegram command, the payload it sends to the dialogue, and its menu description (msgid)."""

    name: str
    payload: str
    description: str
    card: Card | None = None


# The one mapping from Telegram commands to dialogue payloads (intents of dialogs/INTENTS.md).
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "/greet", N_("Welcome, topics and how your data is used"), Card.START),
    CommandSpec("help", "/greet", N_("What I can help with and how to use me"), Card.HELP),
    CommandSpec("language", "/change_language", N_("Change the language")),
    CommandSpec("status", "/ask_status", N_("Status of your request")),
    CommandSpec("human", "/request_human", N_("Talk to a human coordinator")),
)
BY_NAME = {command.name: command for command in COMMANDS}
HELP = BY_NAME["help"]

# Topic buttons of the start card: payloads of knowledge and flow intents.
TOPICS: tuple[tuple[str, str], ...] = (
    (N_("Visa for treatment"), "/ask_visa"),
    (N_("Booking an appointment"), "/ask_appointment"),
    (N_("Documents to bring"), "/ask_documents"),
    (N_("Payment"), "/ask_payment"),
    (N_("Insurance"), "/ask_insurance"),
    (N_("Talk to a coordinator"), "/request_human"),
)

CONSENT_NOTICE = N_(
    "How your data is used: your messages are stored so that I can answer you and a human coordinator "
    "can help you. I will ask for your consent before I store any health details. I do not give medical advice."
)
CHOOSE_TOPIC = N_("Choose a topic below, or type your question in your own language.")
COMMAND_LIST = N_("Commands:")


def command_for(text: str) -> CommandSpec:
    """The command of a ``/name`` or ``/name@BotName arguments`` text; unknown commands get help."""
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower() if text.startswith("/") else ""
    return BY_NAME.get(name, HELP)


def topic_buttons(language: str) -> list[Button]:
    return [Button(title=t(language, title), payload=payload) for title, payload in TOPICS]


def card(kind: Card, language: str) -> OutboundMessage:
    """The channel's addition to ``/start`` (consent notice) or ``/help`` (command list), with topics."""
    if kind is Card.START:
        text = t(language, CONSENT_NOTICE) + "\n\n" + t(language, CHOOSE_TOPIC)
    else:
        lines = [f"/{command.name} — {t(language, command.description)}" for command in COMMANDS]
        text = t(language, COMMAND_LIST) + "\n" + "\n".join(lines) + "\n\n" + t(language, CHOOSE_TOPIC)
    return OutboundMessage(text=text, buttons=topic_buttons(language), custom={"telegram_card": kind.value})


def menu(language: str) -> list[tuple[str, str]]:
    """(command, localized description) pairs for ``set_my_commands`` in ``language``."""
    return [(command.name, t(language, command.description)) for command in COMMANDS]
