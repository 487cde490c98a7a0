"""Knowledge, visa advisor, checklist, safety, fallback and language actions, without Rasa (fake tracker)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import checklist, core_actions, knowledge_actions, safety_actions, visa_advisor
from bot.actions.language_actions import language_buttons, named_language
from bot.i18n import BIDI_CONTROLS
from bot.kb.index import KnowledgeIndex
from bot.kb.schema import KnowledgeEntry

LANGS = ("en", "zh", "ru", "ar", "ko", "ja")


def entry(entry_id: str, intents: list[str], topic: str = "visa") -> KnowledgeEntry:
    return KnowledgeEntry.model_validate({
        "id": entry_id, "topic": topic, "intents": intents, "questions": ["q?"],
        "answer": {lang: f"[{lang}] {entry_id}\n\nsecond paragraph" for lang in LANGS},
        "source": {"seed": "002_0d4801e7e7da959f.txt", "section": "s"}, "reviewed": date(2026, 11, 26),
    })


INDEX = KnowledgeIndex([
    entry("visa-long-term-s1-q1", ["ask_visa_long_term"]),
    entry("visa-short-term-l-m", ["ask_visa_short_term"]),
    entry("visa-purpose-accompanying", ["ask_visa_companion"]),
    entry("visa-purpose-hospitalization", []),
    entry("visa-purpose-long-treatment", []),
    entry("visa-purpose-outpatient", []),
    entry("visa-hospitalization-notification", []),
    entry("boao-overview", ["ask_boao"], topic="boao"),
    entry("documents-identity", [], topic="documents"),
    entry("documents-checklist", ["ask_documents"], topic="documents"),
    entry("documents-medical-records", [], topic="documents"),
    entry("documents-translation", [], topic="documents"),
    entry("payment-deposit-receipts-refund", ["ask_deposit_refund"], topic="payment"),
])


def tracker(intent: str, text: str = "text", language: str = "en", events: list[dict[str, Any]] | None = None,
            slots: dict[str, Any] | None = None, entities: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.9}, "text": text, "entities": entities or []}
    user = {"event": "user", "text": text, "parse_data": latest, "metadata": {"language": language}}
    return Tracker("sender-1", slots or {}, latest, [*(events or []), user], False, None, {}, "action_listen")


@pytest.fixture(autouse=True)
def fixture_index(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (knowledge_actions, visa_advisor, checklist, safety_actions):
        monkeypatch.setattr(module, "knowledge", lambda: INDEX)


async def test_knowledge_answer_carries_intent_kb_id_source_and_footer() -> None:
    dispatcher = CollectingDispatcher()
    await knowledge_actions.ActionAnswerKnowledge().run(dispatcher, tracker("ask_visa_long_term", language="ru"), {})
    [message] = dispatcher.messages
    assert message["custom"]["intent"] == "ask_visa_long_term"
    assert message["custom"]["kb_id"] == "visa-long-term-s1-q1"
    assert message["custom"]["source"] == "002_0d4801e7e7da959f.txt"
    assert message["text"].startswith("[ru] visa-long-term-s1-q1")
    assert "Источник: 002_0d4801e7e7da959f.txt" in message["text"]
    assert "\n\n" not in message["text"]
    assert "/ask_visa" in [b["payload"] for b in message["buttons"]]


async def test_intent_without_an_entry_is_answered_honestly_with_a_coordinator() -> None:
    dispatcher = CollectingDispatcher()
    await knowledge_actions.ActionAnswerKnowledge().run(dispatcher, tracker("ask_costs"), {})
    [message] = dispatcher.messages
    assert message["custom"] == {"intent": "ask_costs", "kb_id": None}
    assert [b["payload"] for b in message["buttons"]] == ["/request_human"]


@pytest.mark.parametrize(
    ("purpose", "stay", "companions", "expected"),
    [
        ("hospitalization", "91_180", True,
         ["visa-purpose-hospitalization", "visa-purpose-accompanying", "visa-hospitalization-notification"]),
        ("outpatient", "up_to_90", False, ["visa-purpose-outpatient"]),
        ("outpatient", "over_180", False, ["visa-purpose-long-treatment", "visa-hospitalization-notification"]),
        ("accompanying", None, True, ["visa-purpose-accompanying"]),
        # Missing flow entries fall back to the main entry of the matching intent.
        ("emergency", None, False, ["visa-short-term-l-m"]),
        ("boao", None, False, ["boao-overview"]),
    ],
)
def test_visa_advice_is_composed_from_entries(
    purpose: str, stay: str | None, companions: bool, expected: list[str]
) -> None:
    assert [e.id for e in visa_advisor.advice_entries(INDEX, purpose, stay, companions)] == expected


async def test_visa_advice_reply_and_slots_reset() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"visa_purpose": "hospitalization", "visa_stay": "91_180", "visa_companions": "no"}
    events = await visa_advisor.ActionVisaAdvice().run(dispatcher, tracker("choose", slots=slots), {})
    [message] = dispatcher.messages
    assert message["custom"]["intent"] == "ask_visa"
    assert message["custom"]["kb_ids"] == ["visa-purpose-hospitalization", "visa-hospitalization-notification"]
    assert message["text"].startswith("Based on your answers (purpose: Hospitalization; stay: 91 to 180 days")
    assert {e["name"] for e in events} == set(visa_advisor.SLOTS)
    assert all(e["value"] is None for e in events)


async def test_visa_form_asks_only_what_the_purpose_needs() -> None:
    form = visa_advisor.ValidateVisaAdvisorForm()
    dispatcher = CollectingDispatcher()
    slots = list(visa_advisor.SLOTS)
    assert await form.required_slots(slots, dispatcher, tracker("choose", slots={}), {}) == slots
    accompanying = tracker("choose", slots={"visa_purpose": "accompanying"})
    assert await form.required_slots(slots, dispatcher, accompanying, {}) == ["visa_purpose"]
    assert form.validate_visa_purpose("tourism", dispatcher, accompanying, {}) == {"visa_purpose": None}
    assert form.validate_visa_stay("over_180", dispatcher, accompanying, {}) == {"visa_stay": "over_180"}


async def test_visa_question_has_choice_buttons_in_the_patients_language() -> None:
    dispatcher = CollectingDispatcher()
    await visa_advisor.ActionAskVisaPurpose().run(dispatcher, tracker("ask_visa", language="zh"), {})
    [message] = dispatcher.messages
    assert message["custom"]["intent"] == "ask_visa"
    assert '/choose{"visa_purpose":"boao"}' in [b["payload"] for b in message["buttons"]]
    assert "签证" in message["text"]


@pytest.mark.parametrize(
    ("care", "insurance", "translated", "expected"),
    [
        ("outpatient", "none", True, ["documents-identity", "documents-checklist", "documents-medical-records",
                                      "payment-deposit-receipts-refund"]),
        ("hospitalization", "none", False, ["documents-identity", "documents-medical-records",
                                            "visa-hospitalization-notification", "payment-deposit-receipts-refund",
                                            "documents-translation"]),
    ],
)
def test_checklist_depends_on_the_answers(care: str, insurance: str, translated: bool, expected: list[str]) -> None:
    assert [e.id for e in checklist.checklist_entries(INDEX, care, insurance, translated)] == expected


async def test_emergency_reply_closes_the_form_and_is_marked() -> None:
    dispatcher = CollectingDispatcher()
    events = await safety_actions.ActionEmergency().run(dispatcher, tracker("emergency", language="zh"), {})
    [message] = dispatcher.messages
    assert message["custom"]["emergency"] is True
    assert message["custom"]["intent"] == "emergency"
    assert "120" in message["text"] and "急诊" in message["text"]
    assert "kb_id" not in message["custom"], "no emergency entry in this index: the built-in text is used"
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


async def test_emergency_reply_uses_the_emergency_entry_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    index = KnowledgeIndex([entry("emergency-what-to-do", ["emergency"], topic="emergency")])
    monkeypatch.setattr(safety_actions, "knowledge", lambda: index)
    dispatcher = CollectingDispatcher()
    await safety_actions.ActionEmergency().run(dispatcher, tracker("emergency", language="ru"), {})
    [message] = dispatcher.messages
    assert message["text"].startswith("Если это экстренная ситуация, немедленно звоните 120")
    assert "[ru] emergency-what-to-do" in message["text"]
    assert message["custom"]["kb_id"] == "emergency-what-to-do"
    assert message["custom"]["emergency"] is True


async def test_emergency_reply_survives_a_broken_knowledge_base(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> KnowledgeIndex:
        raise OSError("disk gone")

    monkeypatch.setattr(safety_actions, "knowledge", broken)
    dispatcher = CollectingDispatcher()
    await safety_actions.ActionEmergency().run(dispatcher, tracker("emergency", language="en"), {})
    assert "call 120" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("language", LANGS)
async def test_emergency_and_refusal_exist_in_every_language(language: str) -> None:
    dispatcher = CollectingDispatcher()
    await safety_actions.ActionEmergency().run(dispatcher, tracker("emergency", language=language), {})
    await safety_actions.ActionRefuseMedicalAdvice().run(dispatcher, tracker("medical_advice", language=language), {})
    emergency, refusal = dispatcher.messages
    assert "120" in emergency["text"]
    if language != "en":
        assert not emergency["text"].startswith("If this is an emergency")
        assert not refusal["text"].startswith("I am sorry")
    assert refusal["buttons"][0]["payload"] == "/request_human"
    assert not BIDI_CONTROLS.search(emergency["text"] + refusal["text"])


def test_consecutive_misses_count_only_the_latest_run() -> None:
    def user(intent: str) -> dict[str, Any]:
        return {"event": "user", "parse_data": {"intent": {"name": intent}}}

    history = [user("out_of_scope"), user("ask_costs"), user("nlu_fallback")]
    assert core_actions.consecutive_misses(tracker("out_of_scope", events=history)) == 2
    assert core_actions.consecutive_misses(tracker("nlu_fallback", events=[user("greet")])) == 1


async def test_second_miss_hands_over_to_the_coordinator_offer(monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[str] = []

    async def fake_log(tracker: Tracker, language: str) -> None:
        stored.append(str(tracker.latest_message["text"]))

    monkeypatch.setattr(core_actions, "log_unanswered", fake_log)
    miss = {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    dispatcher = CollectingDispatcher()
    first = await core_actions.ActionDefaultFallback().run(dispatcher, tracker("nlu_fallback", "pizza?"), {})
    assert first == []
    assert dispatcher.messages[0]["custom"]["fallback"] is True
    assert "/ask_visa" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    second = await core_actions.ActionDefaultFallback().run(
        dispatcher, tracker("nlu_fallback", "football?", events=[miss]), {})
    assert second == [{"event": "followup", "name": "action_offer_handoff", "timestamp": None}]
    assert dispatcher.messages[1]["custom"]["misses"] == 2
    assert stored == ["pizza?", "football?"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("speak Russian please", "ru"), ("请用中文", "zh"), ("日本語でお願いします", "ja"),
     ("по-английски, пожалуйста", "en"), ("change the language", None), ("English or Korean?", None)],
)
def test_a_named_language_switches_directly(text: str, expected: str | None) -> None:
    assert named_language(text) == expected


def test_language_buttons_show_native_names_and_payloads() -> None:
    buttons = language_buttons()
    assert [b["title"] for b in buttons] == ["English", "中文", "Русский", "العربية", "한국어", "日本語"]
    assert buttons[2]["payload"] == '/choose_language{"ui_language":"ru"}'


async def test_follow_up_button_shows_one_entry_by_id() -> None:
    dispatcher = CollectingDispatcher()
    shown = tracker("show_entry", entities=[{"entity": "kb_id", "value": "visa-hospitalization-notification"}])
    await knowledge_actions.ActionShowKnowledgeEntry().run(dispatcher, shown, {})
    [message] = dispatcher.messages
    assert message["custom"]["kb_id"] == "visa-hospitalization-notification"
    assert message["custom"]["intent"] == "show_entry"
    unknown = tracker("show_entry", entities=[{"entity": "kb_id", "value": "no-such-entry"}])
    await knowledge_actions.ActionShowKnowledgeEntry().run(dispatcher, unknown, {})
    assert dispatcher.messages[1]["custom"]["kb_id"] is None


def test_follow_ups_leave_out_entries_the_knowledge_base_lacks() -> None:
    payloads = [b["payload"] for b in knowledge_actions.follow_up_buttons("ask_documents", "en")]
    assert payloads == ["/start_checklist", '/show_entry{"kb_id":"documents-translation"}']
