"""The visa advisor: purpose, length of stay and companions → the visa type(s), documents, where and when.

The advice is composed from knowledge entries (never from text in the dialogue files). The form is
``visa_advisor_form`` in dialogs/domain/visa.yml; buttons fill its slots with ``/choose{"slot":"value"}``.
"""

from __future__ import annotations

from abc import ABC
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.context import language_of
from bot.actions.forms import AskChoice, slot_text, title_of, valid_choice
from bot.actions.replies import knowledge, pick, say_knowledge, say_no_knowledge
from bot.i18n import N_, t
from bot.kb.index import KnowledgeIndex
from bot.kb.schema import KnowledgeEntry

FORM = "visa_advisor_form"
INTENT = "ask_visa"
PURPOSES: tuple[tuple[str, str], ...] = (
    ("emergency", N_("Emergency care")),
    ("outpatient", N_("Outpatient visit")),
    ("hospitalization", N_("Hospitalization")),
    ("long_treatment", N_("Treatment longer than 180 days")),
    ("accompanying", N_("Accompanying a patient")),
    ("boao", N_("Licensed drugs in Boao (Hainan)")),
)
STAYS: tuple[tuple[str, str], ...] = (
    ("up_to_90", N_("Up to 90 days")),
    ("91_180", N_("91 to 180 days")),
    ("over_180", N_("More than 180 days")),
)
YES_NO: tuple[tuple[str, str], ...] = (("yes", N_("Yes")), ("no", N_("No")))
SLOTS = ("visa_purpose", "visa_stay", "visa_companions")
# Entries written for this flow (knowledge/visa/visa-purpose-<purpose>.yml); when one is missing the
# best entry answering the matching intent is used instead.
PURPOSE_FALLBACK_INTENT = {
    "emergency": "ask_visa_short_term",
    "outpatient": "ask_visa_short_term",
    "hospitalization": "ask_visa_long_term",
    "long_treatment": "ask_visa_long_term",
    "accompanying": "ask_visa_companion",
    "boao": "ask_boao",
}
WHERE_AND_WHEN = "visa-hospitalization-notification"
MAX_ENTRIES = 3


def purpose_entry_id(purpose: str) -> str:
    return "visa-purpose-" + purpose.replace("_", "-")


def advice_entries(index: KnowledgeIndex, purpose: str, stay: str | None, companions: bool) -> list[KnowledgeEntry]:
    """The entries for this patient: the visa for the purpose, then for companions, then where and when to apply.

    An outpatient stay of more than 180 days is long-term treatment (S1), whatever the purpose said.
    """
    if purpose == "outpatient" and stay == "over_180":
        purpose = "long_treatment"
    entries: list[KnowledgeEntry] = []

    def add(entry_id: str, intent: str) -> None:
        for entry in pick(index, (entry_id,), (intent,), limit=1):
            if entry not in entries:
                entries.append(entry)

    if purpose in PURPOSE_FALLBACK_INTENT:
        add(purpose_entry_id(purpose), PURPOSE_FALLBACK_INTENT[purpose])
    if companions and purpose != "accompanying":
        add(purpose_entry_id("accompanying"), "ask_visa_companion")
    if purpose in ("hospitalization", "long_treatment"):
        add(WHERE_AND_WHEN, "ask_visa_long_term")
    return entries[:MAX_ENTRIES]


class ValidateVisaAdvisorForm(FormValidationAction):
    """Asks only what matters for the chosen purpose and accepts only the offered choices."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        purpose = tracker.get_slot("visa_purpose")
        if purpose in ("emergency", "long_treatment", "boao"):
            # The stay is implied (emergency: enter first; > 180 days; Boao: per-stay limit of its visa).
            return ["visa_purpose", "visa_companions"]
        if purpose == "accompanying":
            return ["visa_purpose"]
        return list(SLOTS)

    def validate_visa_purpose(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"visa_purpose": valid_choice(value, PURPOSES)}

    def validate_visa_stay(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"visa_stay": valid_choice(value, STAYS)}

    def validate_visa_companions(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"visa_companions": valid_choice(value, YES_NO)}


class VisaQuestion(AskChoice, ABC):
    """A question of this form."""

    form = FORM
    intent = INTENT


class ActionAskVisaPurpose(VisaQuestion):
    slot = "visa_purpose"
    question = N_("I will find the right visa for you. What is the purpose of your trip?")
    choices = PURPOSES


class ActionAskVisaStay(VisaQuestion):
    slot = "visa_stay"
    question = N_("How long do you expect to stay in China?")
    choices = STAYS


class ActionAskVisaCompanions(VisaQuestion):
    slot = "visa_companions"
    question = N_("Will family members travel with you to accompany you?")
    choices = YES_NO


class ActionVisaAdvice(Action):
    """The advisor's answer, composed from the knowledge entries for the patient's answers."""

    def name(self) -> str:
        return "action_visa_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        purpose = slot_text(tracker, "visa_purpose") or ""
        stay = slot_text(tracker, "visa_stay")
        companions = slot_text(tracker, "visa_companions") == "yes"
        entries = advice_entries(knowledge(), purpose, stay, companions)
        reset = [SlotSet(slot, None) for slot in SLOTS]
        if not entries:
            say_no_knowledge(dispatcher, language, INTENT)
            return reset
        heading = t(
            language,
            "Based on your answers (purpose: {purpose}; stay: {stay}; companions: {companions}):",
            purpose=title_of(language, purpose, PURPOSES),
            stay=title_of(language, stay, STAYS),
            companions=title_of(language, "yes" if companions else "no", YES_NO),
        )
        say_knowledge(dispatcher, entries, language, INTENT, heading=heading,
                      visa_purpose=purpose, visa_stay=stay, visa_companions=companions)
        return reset
