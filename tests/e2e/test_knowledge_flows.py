"""Knowledge flows through the real stack (REST channel → app → Rasa → action server → knowledge base)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


def _sender(name: str) -> str:
    return f"e2e-kb-{name}-{uuid.uuid4().hex[:8]}"


def _customs(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [reply.get("custom") or {} for reply in replies]


def _payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons") or []]


@pytest.mark.parametrize(
    ("text", "language", "footer"),
    [
        ("Which visa do I need if my treatment in China takes longer than 180 days? Is it S1?", "en", "Source:"),
        ("Какая виза нужна для лечения в Китае дольше 180 дней? Виза S1?", "ru", "Источник:"),
    ],
)
def test_visa_question_gets_a_sourced_knowledge_answer(
    live_stack: RunningStack, text: str, language: str, footer: str
) -> None:
    replies = live_stack.say(_sender(f"visa-{language}"), text, language=language)
    answers = [r for r in replies if (r.get("custom") or {}).get("kb_id")]
    assert answers, replies
    custom = answers[0]["custom"]
    assert custom["intent"] == "ask_visa_long_term"
    assert custom["source"].endswith(".txt")
    assert footer in answers[0]["text"]
    assert "S1" in answers[0]["text"]


def test_visa_advisor_composes_its_answer_from_the_knowledge_base(live_stack: RunningStack) -> None:
    sender = _sender("advisor")
    first = live_stack.say(sender, "/ask_visa", language="en")
    assert first[0]["custom"]["intent"] == "ask_visa"
    assert '/choose{"visa_purpose":"hospitalization"}' in _payloads(first)
    stay = live_stack.say(sender, '/choose{"visa_purpose":"hospitalization"}')
    assert '/choose{"visa_stay":"over_180"}' in _payloads(stay)
    companions = live_stack.say(sender, '/choose{"visa_stay":"91_180"}')
    assert '/choose{"visa_companions":"yes"}' in _payloads(companions)
    advice = live_stack.say(sender, '/choose{"visa_companions":"yes"}')
    custom = advice[0]["custom"]
    assert custom["intent"] == "ask_visa"
    assert custom["kb_ids"][0] == "visa-purpose-hospitalization"
    assert "visa-purpose-accompanying" in custom["kb_ids"]
    assert "Source:" in advice[0]["text"]


def test_chest_pain_in_chinese_during_the_visa_form_gets_the_emergency_reply(live_stack: RunningStack) -> None:
    sender = _sender("emergency")
    live_stack.say(sender, "/ask_visa", language="en")
    live_stack.say(sender, '/choose{"visa_purpose":"outpatient"}')
    replies = live_stack.say(sender, "胸痛")
    emergency = [r for r in replies if (r.get("custom") or {}).get("emergency") is True]
    assert emergency, replies
    assert "120" in emergency[0]["text"]
    assert emergency[0]["custom"]["intent"] == "emergency"
    assert "急诊" in emergency[0]["text"]
    # The form was closed: the visa advisor's question does not come back.
    assert all((c.get("form") is None) for c in _customs(replies))


def test_medical_advice_is_refused_with_a_coordinator_button(live_stack: RunningStack) -> None:
    replies = live_stack.say(_sender("advice"), "What dose of ibuprofen should I take for my back pain?",
                             language="en")
    assert replies[0]["custom"]["intent"] == "medical_advice"
    assert "/request_human" in _payloads(replies)
    assert "kb_id" not in replies[0]["custom"]


def test_two_misses_in_a_row_offer_a_coordinator(live_stack: RunningStack) -> None:
    sender = _sender("fallback")
    first = live_stack.say(sender, "What is the best pizza topping in Naples?", language="en")
    assert first[0]["custom"]["fallback"] is True
    assert "/ask_visa" in _payloads(first)
    second = live_stack.say(sender, "Who will win the next football world cup?", language="en")
    assert second[0]["custom"]["fallback"] is True
    assert second[0]["custom"]["misses"] == 2
    # The handoff offer follows (action_offer_handoff): a way to reach a coordinator.
    assert len(second) >= 2, second
    assert "/ask_visa" not in _payloads(second)


def test_language_switch_sticks(live_stack: RunningStack) -> None:
    sender = _sender("language")
    offer = live_stack.say(sender, "/language", language="en")
    assert offer[0]["custom"]["intent"] == "change_language"
    assert '/choose_language{"ui_language":"ru"}' in _payloads(offer)
    confirmed = live_stack.say(sender, '/choose_language{"ui_language":"ru"}')
    assert "Русский" in confirmed[0]["text"]
    later = live_stack.say(sender, "How do I pay at the hospital?", language="en")
    assert later[0]["custom"]["intent"] == "ask_payment"
    assert "Источник:" in later[0]["text"]


def test_personal_checklist_is_built_from_the_answers(live_stack: RunningStack) -> None:
    sender = _sender("checklist")
    documents = live_stack.say(sender, "/ask_documents", language="ko")
    assert documents[0]["custom"]["intent"] == "ask_documents"
    assert "/start_checklist" in _payloads(documents)
    care = live_stack.say(sender, "/start_checklist")
    assert '/choose{"checklist_care":"hospitalization"}' in _payloads(care)
    insurance = live_stack.say(sender, '/choose{"checklist_care":"hospitalization"}')
    assert '/choose{"checklist_insurance":"commercial"}' in _payloads(insurance)
    translated = live_stack.say(sender, '/choose{"checklist_insurance":"commercial"}')
    assert '/choose{"checklist_translated":"no"}' in _payloads(translated)
    checklist = live_stack.say(sender, '/choose{"checklist_translated":"no"}')
    custom = checklist[0]["custom"]
    assert custom["intent"] == "ask_documents"
    assert custom["checklist"] is True
    assert "visa-hospitalization-notification" in custom["kb_ids"]
    assert "insurance-commercial" in custom["kb_ids"]
    assert "출처:" in checklist[0]["text"]


def _asked_slots(replies: list[dict[str, Any]]) -> list[str]:
    return [c["slot"] for c in _customs(replies) if c.get("form")]


def test_a_stale_form_button_gets_one_clarifying_answer_and_the_conversation_goes_on(
    live_stack: RunningStack,
) -> None:
    # A button of a finished advisor, clicked later: no rule covers it (Rasa's core fallback).
    sender = _sender("stale")
    stale = live_stack.say(sender, '/choose{"visa_purpose":"hospitalization"}', language="en")
    assert len(stale) == 1, stale
    assert stale[0]["custom"]["fallback"] is True
    later = live_stack.say(sender, "/greet")
    assert [c.get("intent") for c in _customs(later)] == ["greet"], later


def test_asking_for_the_advisor_while_it_runs_repeats_its_open_question(live_stack: RunningStack) -> None:
    sender = _sender("advisor-again")
    live_stack.say(sender, "/ask_visa", language="en")
    stay = live_stack.say(sender, '/choose{"visa_purpose":"hospitalization"}')
    assert _asked_slots(stay) == ["visa_stay"]
    again = live_stack.say(sender, "Which visa do I need for my treatment in China?")
    assert _asked_slots(again) == ["visa_stay"], again
    assert not any(c.get("fallback") for c in _customs(again))
    # The purpose given before is kept: the advisor goes on to its last question.
    companions = live_stack.say(sender, '/choose{"visa_stay":"91_180"}')
    assert _asked_slots(companions) == ["visa_companions"], companions


def test_the_checklist_button_while_the_checklist_runs_repeats_its_open_question(live_stack: RunningStack) -> None:
    sender = _sender("checklist-again")
    first = live_stack.say(sender, "/start_checklist", language="en")
    again = live_stack.say(sender, "/start_checklist")
    assert _asked_slots(first) == _asked_slots(again) == ["checklist_care"], again


def test_a_button_of_another_form_closes_the_open_one_and_the_conversation_goes_on(
    live_stack: RunningStack,
) -> None:
    sender = _sender("wrong-form")
    live_stack.say(sender, "/ask_visa", language="en")
    wrong = live_stack.say(sender, '/choose{"checklist_care":"outpatient"}')
    assert len(wrong) == 1, wrong
    assert wrong[0]["custom"]["fallback"] is True
    payment = live_stack.say(sender, "/ask_payment")
    assert payment[0]["custom"]["intent"] == "ask_payment"
    # The advisor was closed: its question does not come back after the answer.
    assert _asked_slots(payment) == [], payment
