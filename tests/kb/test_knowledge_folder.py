"""The real knowledge/ folder through the loader: valid, complete, and holding what the flows name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actions import checklist, knowledge_actions, safety_actions, visa_advisor
from bot.i18n import BIDI_CONTROLS
from bot.kb.index import KnowledgeIndex
from bot.kb.loader import load_knowledge
from bot.kb.render import render_answer
from bot.settings import SUPPORTED_LANGUAGES

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    result = load_knowledge(KNOWLEDGE, SUPPORTED_LANGUAGES)
    result.raise_for_problems()
    return KnowledgeIndex(result.entries)


def test_every_knowledge_intent_has_an_entry(index: KnowledgeIndex) -> None:
    missing = [intent for intent in (*knowledge_actions.KNOWLEDGE_INTENTS, "emergency") if not index.for_intent(intent)]
    assert not missing


def test_entries_named_by_the_flows_exist(index: KnowledgeIndex) -> None:
    named = [visa_advisor.purpose_entry_id(purpose) for purpose, _title in visa_advisor.PURPOSES]
    named += [visa_advisor.WHERE_AND_WHEN, safety_actions.EMERGENCY_ENTRY]
    named += ["documents-identity", "documents-outpatient-visit", "documents-medical-records",
              "documents-translation", "insurance-commercial", "insurance-chinese", "payment-deposit-receipts-refund"]
    assert [entry_id for entry_id in named if entry_id not in index] == []
    entries = checklist.checklist_entries(index, "hospitalization", "commercial", False)
    assert [e.id for e in entries][:2] == ["documents-identity", "documents-medical-records"]


def test_every_entry_renders_in_every_language_with_clean_arabic(index: KnowledgeIndex) -> None:
    for entry in index.entries:
        for language in SUPPORTED_LANGUAGES:
            text = render_answer(entry, language)
            assert "{" not in text, (entry.id, language)
            assert "\n\n" not in text, (entry.id, language)
        assert not BIDI_CONTROLS.search(render_answer(entry, "ar")), entry.id
