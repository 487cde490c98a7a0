"""Answers by intent from the knowledge base, with follow-up buttons that guide to the next question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import language_of
from bot.actions.replies import button, coordinator_button, knowledge, latest_intent, say_knowledge, say_no_knowledge
from bot.i18n import N_

# The intents answered straight from the knowledge base.
KNOWLEDGE_INTENTS = (
    "ask_visa_short_term", "ask_visa_long_term", "ask_visa_companion", "ask_visa_work", "ask_boao",
    "ask_appointment", "ask_documents", "ask_interpreter", "ask_hospitals", "ask_payment",
    "ask_deposit_refund", "ask_insurance", "ask_costs", "ask_process",
)
# At most this many entries are composed into one answer (more is a wall of text on a phone).
MAX_ENTRIES = 2

SHOW_ENTRY_INTENT = "show_entry"
KB_ID_ENTITY = "kb_id"


def show_entry_payload(entry_id: str) -> str:
    """A button payload that shows one knowledge entry (entries written for flows have no intent)."""
    return f'/{SHOW_ENTRY_INTENT}{{"{KB_ID_ENTITY}":"{entry_id}"}}'


# Follow-ups offered under an answer (title msgid, payload): the guided part of each flow.
FOLLOW_UPS: dict[str, tuple[tuple[str, str], ...]] = {
    "ask_appointment": (
        (N_("International departments"), show_entry_payload("appointment-international-departments")),
        (N_("Before your visit"), show_entry_payload("appointment-before-visit-tips")),
        (N_("What to bring"), "/ask_documents"),
        (N_("Interpreters"), "/ask_interpreter"),
        (N_("Payment"), "/ask_payment"),
    ),
    "ask_documents": (
        (N_("My personal checklist"), "/start_checklist"),
        (N_("Pathology slides"), show_entry_payload("documents-pathology-slides")),
        (N_("Imaging"), show_entry_payload("documents-imaging")),
        (N_("Translation of records"), show_entry_payload("documents-translation")),
    ),
    "ask_hospitals": ((N_("How to book"), "/ask_appointment"), (N_("Interpreters"), "/ask_interpreter")),
    "ask_interpreter": ((N_("How to book"), "/ask_appointment"), (N_("What to bring"), "/ask_documents")),
    "ask_payment": ((N_("Deposits and refunds"), "/ask_deposit_refund"), (N_("Insurance"), "/ask_insurance")),
    "ask_deposit_refund": ((N_("Payment methods"), "/ask_payment"), (N_("Insurance"), "/ask_insurance")),
    "ask_insurance": (
        (N_("Does my policy cover China?"), show_entry_payload("insurance-international-policy")),
        (N_("Payment methods"), "/ask_payment"),
        (N_("Deposits and refunds"), "/ask_deposit_refund"),
    ),
    "ask_costs": (
        (N_("Budget planning"), show_entry_payload("costs-budget-planning")),
        (N_("Hospital fees"), show_entry_payload("payment-hospital-fees")),
        (N_("Insurance"), "/ask_insurance"),
    ),
    "ask_process": (
        (N_("Choosing an agency: warnings"), show_entry_payload("process-agency-warnings")),
        (N_("Common pitfalls"), show_entry_payload("process-common-pitfalls")),
        (N_("Which visa do I need?"), "/ask_visa"),
    ),
    "ask_visa_short_term": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_visa_long_term": ((N_("Visa advisor"), "/ask_visa"), (N_("Visa for companions"), "/ask_visa_companion")),
    "ask_visa_companion": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_visa_work": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_boao": (
        (N_("Licensed drugs and devices"), show_entry_payload("boao-licensed-drugs-devices")),
        (N_("Costs and insurance in Boao"), show_entry_payload("boao-costs-insurance")),
        (N_("Visa for Boao"), show_entry_payload("visa-purpose-boao")),
    ),
}


class ActionAnswerKnowledge(Action):
    """Answers the latest intent from the knowledge base (entries naming the intent first)."""

    def name(self) -> str:
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        intent = latest_intent(tracker)
        entries = knowledge().for_intent(intent)[:MAX_ENTRIES]
        if not entries:
            say_no_knowledge(dispatcher, language, intent)
            return []
        buttons = follow_up_buttons(intent, language)
        if intent == "ask_costs":
            # Prices vary per case: an estimate is a coordinator's job (request_service).
            buttons.append(coordinator_button(language))
        say_knowledge(dispatcher, entries, language, intent, buttons=buttons)
        return []


def follow_up_buttons(intent: str, language: str) -> list[dict[str, str]]:
    """The follow-ups of an intent, leaving out buttons to entries the knowledge base does not hold."""
    index = knowledge()
    buttons = []
    for title, payload in FOLLOW_UPS.get(intent, ()):
        if payload.startswith(f"/{SHOW_ENTRY_INTENT}"):
            entry_id = payload.split('":"', 1)[1].rstrip('"}')
            if entry_id not in index:
                continue
        buttons.append(button(language, title, payload))
    return buttons


class ActionShowKnowledgeEntry(Action):
    """Shows one entry by id (a follow-up button); custom.intent is the entry's main intent or its topic's."""

    def name(self) -> str:
        return "action_show_knowledge_entry"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        entry_id = next(tracker.get_latest_entity_values(KB_ID_ENTITY), None)
        entry = knowledge().get(str(entry_id)) if entry_id else None
        if entry is None:
            say_no_knowledge(dispatcher, language, SHOW_ENTRY_INTENT)
            return []
        intent = entry.intents[0] if entry.intents else SHOW_ENTRY_INTENT
        say_knowledge(dispatcher, [entry], language, intent, buttons=follow_up_buttons(intent, language))
        return []
