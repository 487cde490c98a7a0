"""Safety first: the emergency reply (overrides any open form) and the refusal of medical advice."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import language_of
from bot.actions.replies import coordinator_button, say
from bot.i18n import t

# The emergency reply restates seed 002 ("Emergency medical treatment": no appointment, life first,
# register afterwards, self-pay unless insured in China) and seed 004 ("For emergencies": registration
# window with the passport, critical patients treated first). It is an interface string, not a
# knowledge entry, so it never depends on the knowledge folder being readable.
EMERGENCY_SOURCES = ("002_0d4801e7e7da959f.txt", "004_14334f2c18ba43ef.txt")


def emergency_text(language: str) -> str:
    """The emergency instructions in the patient's language."""
    return t(
        language,
        "If this is an emergency, call 120 now or go to the nearest hospital emergency department.\n"
        "- No appointment is needed: life comes first, with or without a visa.\n"
        "- Register afterwards with your passport (or Foreign Permanent Resident ID) at the emergency "
        "registration window.\n"
        "- Emergency fees are paid by yourself unless you have medical insurance in China.\n"
        "I am also alerting a coordinator.",
    )


class ActionEmergency(Action):
    """Replies at once with what to do in an emergency and closes any open form."""

    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        say(dispatcher, emergency_text(language), "emergency", emergency=True, sources=list(EMERGENCY_SOURCES))
        # An emergency overrides any open form: deactivate it so the next message is not read as an answer.
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionRefuseMedicalAdvice(Action):
    """Politely declines diagnosis, dosage and treatment questions and offers a coordinator."""

    def name(self) -> str:
        return "action_refuse_medical_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        text = t(
            language,
            "I am sorry, I cannot give medical advice: questions about a diagnosis, symptoms, medicines or "
            "doses need a doctor who knows your case. I can connect you with a coordinator who will help you "
            "find the right doctor or hospital.",
        )
        say(dispatcher, text, "medical_advice", [coordinator_button(language)], refused=True)
        return []
