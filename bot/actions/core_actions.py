"""Greeting, goodbye and fallback: localized through the gettext catalogs."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import language_of, patient_of
from bot.i18n import t


class ActionGreet(Action):
    """Greets a new patient, or welcomes back one the application already knows by name."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        patient = await patient_of(tracker)
        if patient is not None and patient.display_name:
            text = t(language, "Welcome back, {name}! How can I help you today?", name=patient.display_name)
        else:
            text = t(
                language,
                "Hello! I am MedConcierge. I can help with visas, appointments, payment and insurance "
                "for medical treatment in China. I do not give medical advice.",
            )
        dispatcher.utter_message(text=text, json_message={"intent": "greet"})
        return []


class ActionGoodbye(Action):
    """Says goodbye in the patient's language."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=t(language_of(tracker), "Goodbye! Write again any time."))
        return []


class ActionDefaultFallback(Action):
    """Asks the patient to rephrase when the bot did not understand."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        dispatcher.utter_message(
            text=t(language, "Sorry, I did not understand. Could you rephrase?"),
            json_message={"fallback": True},
        )
        return []
