"""What the patient reads during a handoff, localized (gettext msgids; translations in locales/sources/handoff.yml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.handoff.models import CaseStage, CaseStatus
from bot.i18n import N_, format_day, t

if TYPE_CHECKING:
    from bot.handoff.cases import CaseStatusSummary

AFFIRM_PAYLOAD = "/affirm"
DENY_PAYLOAD = "/deny"
SKIP_PAYLOAD = "/skip"

# What the consent question says is stored, why, with whom it is shared, and how it is erased.
CONSENT_QUESTION = N_(
    "Before I connect you with a coordinator: to prepare your case I will ask up to six short questions "
    "(your name, country, what the treatment is about, preferred city or hospital, travel dates and how to "
    "contact you). Health information is sensitive personal information under China's Personal Information "
    "Protection Law (PIPL). We store your answers and this conversation only to arrange your care, share "
    "them only with our coordinators, and erase them whenever you ask. Do you agree?"
)
FALLBACK_OFFER = N_("I am sorry I could not help with that. A human coordinator can help you.")

# One question per intake slot, in the form's order (slot name -> msgid).
INTAKE_QUESTIONS: dict[str, str] = {
    "intake_name": N_("What is your name?"),
    "intake_country": N_("Which country do you live in?"),
    "intake_treatment": N_("In your own words, what is the treatment about?"),
    "intake_place": N_("Do you have a preferred city or hospital in China?"),
    "intake_travel_window": N_("When would you like to travel?"),
    "intake_contact": N_("How can a coordinator best contact you (phone, email, WeChat, Telegram…)?"),
}

STAGE_NAMES: dict[CaseStage, str] = {
    CaseStage.INTAKE: N_("intake"),
    CaseStage.RECORDS: N_("medical records"),
    CaseStage.PRE_ASSESSMENT: N_("pre-assessment and cost estimate"),
    CaseStage.VISA_LETTER: N_("visa invitation letter"),
    CaseStage.TRAVEL: N_("travel"),
    CaseStage.TREATMENT: N_("treatment"),
    CaseStage.FOLLOW_UP: N_("follow-up"),
}
STATUS_NAMES: dict[CaseStatus, str] = {
    CaseStatus.NEW: N_("waiting for a coordinator"),
    CaseStatus.OPEN: N_("in progress"),
    CaseStatus.WAITING_FOR_PATIENT: N_("waiting for your answer"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
}


def consent_question(language: str, after_fallback: bool = False) -> str:
    text = t(language, CONSENT_QUESTION)
    return f"{t(language, FALLBACK_OFFER)} {text}" if after_fallback else text


def consent_buttons(language: str) -> list[dict[str, str]]:
    return [
        {"title": t(language, N_("Yes, I agree")), "payload": AFFIRM_PAYLOAD},
        {"title": t(language, N_("No, thanks")), "payload": DENY_PAYLOAD},
    ]


def skip_button(language: str) -> dict[str, str]:
    return {"title": t(language, N_("Skip")), "payload": SKIP_PAYLOAD}


def intake_intro(language: str) -> str:
    return t(language, "Thank you. A few short questions; you can skip any of them with \"skip\".")


def declined(language: str) -> str:
    return t(
        language,
        "Understood: nothing about your health is stored and no coordinator was contacted. I can still answer "
        "general questions about visas, appointments, payment and insurance, and you can ask for a "
        "coordinator at any time.",
    )


def case_opened(language: str, number: str) -> str:
    return t(
        language,
        "Thank you! Your case number is {number}. A coordinator will reply to you here. Write /status at any "
        "time to see how your case is going.",
        number=number,
    )


def case_already_open(language: str, number: str) -> str:
    return t(language, "Your case {number} is open; a coordinator will reply to you here.", number=number)


def emergency_alerted(language: str, number: str) -> str:
    return t(language, "A coordinator has been alerted (case {number}).", number=number)


def cannot_open(language: str) -> str:
    return t(language, "Sorry, I cannot reach the coordinators right now. Please try again in a few minutes.")


def no_case(language: str) -> str:
    return t(language, "You have no case with us yet. Write \"human\" if you would like a coordinator.")


def status(language: str, summary: CaseStatusSummary) -> str:
    """``/status``: the case number, when it was opened, its stage and status, and whether a coordinator replied."""
    replied = (
        t(language, "A coordinator has replied to you.")
        if summary.coordinator_replied
        else t(language, "No coordinator has replied yet.")
    )
    return t(
        language,
        "Case {number}, opened on {day}. Stage: {stage}. Status: {status}. {replied}",
        number=summary.number,
        day=format_day(summary.opened_at, language),
        stage=t(language, STAGE_NAMES[summary.stage]),
        status=t(language, STATUS_NAMES[summary.status]),
        replied=replied,
    )


def returned_to_bot(language: str) -> str:
    return t(
        language,
        "You are now chatting with the assistant again. Write \"human\" any time to reach a coordinator.",
    )
