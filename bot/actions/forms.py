"""Shared pieces of the button-driven forms: choices, their buttons and slot validation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import language_of
from bot.actions.replies import say
from bot.i18n import t

CHOOSE_INTENT = "choose"


def close_form() -> list[EventType]:
    """Events that deactivate whatever form is open, so the next message is not read as its answer."""
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


def choice_buttons(language: str, slot: str, choices: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Buttons whose payload fills ``slot`` (``/choose{"slot":"value"}``); titles are msgids."""
    return [
        {"title": t(language, title), "payload": f'/{CHOOSE_INTENT}{{"{slot}":"{value}"}}'}
        for value, title in choices
    ]


def valid_choice(value: Any, choices: Sequence[tuple[str, str]]) -> str | None:
    """The value when it is one of the choices, else None (the form asks again)."""
    allowed = {v for v, _title in choices}
    return str(value) if isinstance(value, str) and value in allowed else None


def title_of(language: str, value: str | None, choices: Sequence[tuple[str, str]]) -> str:
    """The localized title of a chosen value (for the summary of the patient's answers)."""
    for choice, title in choices:
        if choice == value:
            return t(language, title)
    return "—"


def slot_text(tracker: Tracker, name: str) -> str | None:
    value = tracker.get_slot(name)
    return str(value) if value is not None else None


class AskSlot(Action, ABC):
    """An ``action_ask_<slot>`` question of a form. Abstract: the action server registers only concrete ones."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this question fills."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"


class AskChoice(AskSlot):
    """Asks for one slot of a form with a button per choice (``action_ask_<slot>``).

    Abstract so that the action server registers only the concrete questions.
    """

    form = ""
    intent = ""
    question = ""
    choices: tuple[tuple[str, str], ...] = ()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        say(dispatcher, t(language, self.question), self.intent, choice_buttons(language, self.slot, self.choices),
            form=self.form, slot=self.slot)
        return []
