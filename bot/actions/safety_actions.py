"""Safety first: the emergency reply (overrides any open form) and the refusal of medical advice."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import language_of
from bot.actions.forms import close_form
from bot.actions.replies import coordinator_button, knowledge, say
from bot.i18n import t
from bot.kb.render import PARAGRAPH_BREAK, render_entries

# The emergency reply is the call to action followed by the knowledge entry on emergencies (seed 002:
# no appointment, life first, register afterwards, self-pay unless insured in China). Should that entry
# be missing or unreadable, a built-in text restating seeds 002 and 004 is used: an emergency reply must
# never depend on the knowledge folder.
logger = logging.getLogger(__name__)
EMERGENCY_SOURCES = ("002_0d4801e7e7da959f.txt", "004_14334f2c18ba43ef.txt")
EMERGENCY_ENTRY = "emergency-what-to-do"


def call_to_action(language: str) -> str:
    """The first line of every emergency reply."""
    return t(
        language,
        "If this is an emergency, call 120 now or go to the nearest hospital emergency department. "
        "I am also alerting a coordinator.",
    )


def emergency_text(language: str) -> str:
    """The built-in emergency instructions in the patient's language (no knowledge needed)."""
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
        try:
            entry = knowledge().get(EMERGENCY_ENTRY)
        except Exception:  # whatever breaks the knowledge base, the emergency reply must go out
            logger.exception("knowledge base unavailable for the emergency reply")
            entry = None
        if entry is None:
            say(dispatcher, emergency_text(language), "emergency", emergency=True, sources=list(EMERGENCY_SOURCES))
        else:
            text = call_to_action(language) + PARAGRAPH_BREAK + render_entries([entry], language)
            say(dispatcher, text, "emergency", emergency=True, kb_id=entry.id, source=entry.source.seed)
        # An emergency overrides any open form: deactivate it so the next message is not read as an answer.
        return close_form()


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
