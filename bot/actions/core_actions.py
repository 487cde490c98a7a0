"""Greeting, goodbye, acknowledgement and fallback: localized through the gettext catalogs."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import database, language_of, patient_of
from bot.actions.forms import close_form
from bot.actions.replies import say, topic_buttons
from bot.i18n import t
from bot.storage.models import UnansweredQuestion

logger = logging.getLogger(__name__)

# Intents that mean "the bot did not understand" (low confidence, or off-topic).
MISS_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
# The second consecutive miss offers a human instead of a third clarifying question.
MISSES_BEFORE_HANDOFF = 2
HANDOFF_OFFER_ACTION = "action_offer_handoff"
LISTEN_ACTION = "action_listen"


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
        say(dispatcher, text, "greet", topic_buttons(language))
        return []


class ActionGoodbye(Action):
    """Says goodbye in the patient's language."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, t(language_of(tracker), "Goodbye! Write again any time."), "goodbye")
        return []


class ActionAcknowledge(Action):
    """A "yes"/"no" outside any form: acknowledge and show the topics."""

    def name(self) -> str:
        return "action_acknowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        intent = str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "affirm")
        say(dispatcher, t(language, "All right. What else can I help you with?"), intent, topic_buttons(language))
        return []


def consecutive_misses(tracker: Tracker) -> int:
    """How many of the patient's latest messages in a row the bot did not understand (this one included)."""
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in MISS_INTENTS:
            break
        misses += 1
    return max(misses, 1)


async def log_unanswered(tracker: Tracker, language: str) -> None:
    """Store the question for the console's report of unanswered questions (never logged as text)."""
    text = str((tracker.latest_message or {}).get("text") or "").strip()
    if not text or text.startswith("/"):
        return
    patient = await patient_of(tracker)
    if patient is None:
        logger.warning("unanswered question of an unknown sender not stored")
        return
    async with database().session() as session:
        session.add(UnansweredQuestion(patient_id=patient.id, language=language, text=text[:4000]))


def active_form_rejected_message(tracker: Tracker) -> bool:
    """True when the active form could not use the patient's latest message."""
    active = (tracker.active_loop or {}).get("name")
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action_execution_rejected" and event.get("name") == active:
            return True
    return False


def end_core_fallback(tracker: Tracker) -> list[EventType]:
    """Events that end a turn no rule covered, so Rasa does not predict the fallback again and again.

    Without them Rasa repeats the fallback until its limit of 10 predictions and, as the turn never
    reaches ``action_listen``, answers none of the patient's later messages. A form that rejected the
    message is closed (asking for it again starts it at its open question).
    """
    closing = close_form() if active_form_rejected_message(tracker) else []
    return [*closing, FollowupAction(LISTEN_ACTION)]


class ActionDefaultFallback(Action):
    """A miss: first a clarifying question with topic buttons, on the second miss in a row a coordinator.

    Rules send misses (``nlu_fallback``, ``out_of_scope``) here; Rasa sends any other intent here when
    no rule covers it in the conversation's state (its core fallback), e.g. a stale form button.
    """

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        intent = str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "nlu_fallback")
        await log_unanswered(tracker, language)
        misses = consecutive_misses(tracker)
        if misses >= MISSES_BEFORE_HANDOFF:
            say(dispatcher, t(language, "Sorry, I still did not understand."), intent, fallback=True, misses=misses)
            return [FollowupAction(HANDOFF_OFFER_ACTION)]
        text = t(language, "Sorry, I did not quite understand. Which topic is your question about?")
        say(dispatcher, text, intent, topic_buttons(language), fallback=True, misses=misses)
        return [] if intent in MISS_INTENTS else end_core_fallback(tracker)
