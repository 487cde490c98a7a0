"""The personalised document checklist: the kind of care, insurance and translation → what to prepare.

Composed from knowledge entries chosen by the patient's answers (form ``document_checklist_form``).
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

FORM = "document_checklist_form"
INTENT = "ask_documents"
CARE: tuple[tuple[str, str], ...] = (
    ("outpatient", N_("Outpatient visit")),
    ("hospitalization", N_("Hospitalization")),
    ("long_treatment", N_("Treatment longer than 180 days")),
    ("boao", N_("Licensed drugs in Boao (Hainan)")),
)
INSURANCE: tuple[tuple[str, str], ...] = (
    ("commercial", N_("International or commercial insurance")),
    ("chinese", N_("Chinese basic medical insurance")),
    ("none", N_("No insurance (self-pay)")),
)
YES_NO: tuple[tuple[str, str], ...] = (("yes", N_("Yes")), ("no", N_("No")))
SLOTS = ("checklist_care", "checklist_insurance", "checklist_translated")
MAX_ENTRIES = 5


def checklist_entries(
    index: KnowledgeIndex, care: str, insurance: str, translated: bool
) -> list[KnowledgeEntry]:
    """Identity and records first, then what the care, the way of paying and the records' language add.

    Entries are named by id (knowledge/documents/…); a missing one falls back to the intent's main entry.
    """
    entries: list[KnowledgeEntry] = []

    def add(entry_id: str, intent: str) -> None:
        for entry in pick(index, (entry_id,), (intent,), limit=1):
            if entry not in entries:
                entries.append(entry)

    add("documents-identity", "ask_documents")
    if care == "outpatient":
        add("documents-outpatient-visit", "ask_documents")
    add("documents-medical-records", "ask_documents")
    if care in ("hospitalization", "long_treatment"):
        add("visa-hospitalization-notification", "ask_visa_long_term")
    elif care == "boao":
        add("visa-purpose-boao", "ask_boao")
    if insurance in ("commercial", "chinese"):
        add(f"insurance-{insurance}", "ask_insurance")
    else:
        add("payment-deposit-receipts-refund", "ask_deposit_refund")
    if not translated:
        add("documents-translation", "ask_interpreter")
    return entries[:MAX_ENTRIES]


class ValidateDocumentChecklistForm(FormValidationAction):
    """Accepts only the offered choices."""

    def name(self) -> str:
        return f"validate_{FORM}"

    def validate_checklist_care(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"checklist_care": valid_choice(value, CARE)}

    def validate_checklist_insurance(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"checklist_insurance": valid_choice(value, INSURANCE)}

    def validate_checklist_translated(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"checklist_translated": valid_choice(value, YES_NO)}


class ChecklistQuestion(AskChoice, ABC):
    """A question of this form."""

    form = FORM
    intent = INTENT


class ActionAskChecklistCare(ChecklistQuestion):
    slot = "checklist_care"
    question = N_("Let us build your checklist. What kind of care are you planning?")
    choices = CARE


class ActionAskChecklistInsurance(ChecklistQuestion):
    slot = "checklist_insurance"
    question = N_("How will you pay for the treatment?")
    choices = INSURANCE


class ActionAskChecklistTranslated(ChecklistQuestion):
    slot = "checklist_translated"
    question = N_("Are your medical records already translated into Chinese or English?")
    choices = YES_NO


class ActionDocumentChecklist(Action):
    """The checklist composed from the knowledge entries that match the patient's answers."""

    def name(self) -> str:
        return "action_document_checklist"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        care = slot_text(tracker, "checklist_care") or ""
        insurance = slot_text(tracker, "checklist_insurance") or "none"
        translated = slot_text(tracker, "checklist_translated") == "yes"
        entries = checklist_entries(knowledge(), care, insurance, translated)
        reset = [SlotSet(slot, None) for slot in SLOTS]
        if not entries:
            say_no_knowledge(dispatcher, language, INTENT)
            return reset
        heading = t(
            language,
            "Your checklist ({care}; {insurance}):",
            care=title_of(language, care, CARE),
            insurance=title_of(language, insurance, INSURANCE),
        )
        say_knowledge(dispatcher, entries, language, INTENT, heading=heading, checklist=True)
        return reset
