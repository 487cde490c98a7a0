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

# Follow-ups offered under an answer (title msgid, payload): the guided part of each flow.
FOLLOW_UPS: dict[str, tuple[tuple[str, str], ...]] = {
    "ask_appointment": (
        (N_("What to bring"), "/ask_documents"),
        (N_("Interpreters"), "/ask_interpreter"),
        (N_("International departments"), "/ask_hospitals"),
        (N_("Payment"), "/ask_payment"),
    ),
    "ask_documents": (
        (N_("My personal checklist"), "/start_checklist"),
        (N_("Interpreters and translation"), "/ask_interpreter"),
    ),
    "ask_hospitals": ((N_("How to book"), "/ask_appointment"), (N_("Interpreters"), "/ask_interpreter")),
    "ask_interpreter": ((N_("How to book"), "/ask_appointment"), (N_("What to bring"), "/ask_documents")),
    "ask_payment": ((N_("Deposits and refunds"), "/ask_deposit_refund"), (N_("Insurance"), "/ask_insurance")),
    "ask_deposit_refund": ((N_("Payment methods"), "/ask_payment"), (N_("Insurance"), "/ask_insurance")),
    "ask_insurance": ((N_("Payment methods"), "/ask_payment"), (N_("Deposits and refunds"), "/ask_deposit_refund")),
    "ask_costs": ((N_("Payment methods"), "/ask_payment"), (N_("Insurance"), "/ask_insurance")),
    "ask_process": ((N_("Which visa do I need?"), "/ask_visa"), (N_("What to bring"), "/ask_documents")),
    "ask_visa_short_term": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_visa_long_term": ((N_("Visa advisor"), "/ask_visa"), (N_("Visa for companions"), "/ask_visa_companion")),
    "ask_visa_companion": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_visa_work": ((N_("Visa advisor"), "/ask_visa"),),
    "ask_boao": ((N_("Visa advisor"), "/ask_visa"), (N_("Insurance"), "/ask_insurance")),
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
        buttons = [button(language, title, payload) for title, payload in FOLLOW_UPS.get(intent, ())]
        if intent == "ask_costs":
            # Prices vary per case: an estimate is a coordinator's job (request_service).
            buttons.append(coordinator_button(language))
        say_knowledge(dispatcher, entries, language, intent, buttons=buttons)
        return []
