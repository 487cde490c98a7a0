"""KnowledgeIndex: lookup by id and by intent (the entry naming the intent first wins), and the reloading cache."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.kb.index import KnowledgeIndex, _Cache
from bot.kb.schema import KnowledgeEntry

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
LANGS = ("en", "zh", "ru", "ar", "ko", "ja")


def entry(entry_id: str, intents: list[str], topic: str = "visa") -> KnowledgeEntry:
    return KnowledgeEntry.model_validate({
        "id": entry_id, "topic": topic, "intents": intents, "questions": ["q?"],
        "answer": dict.fromkeys(LANGS, f"answer of {entry_id}"),
        "source": {"seed": "002_0d4801e7e7da959f.txt", "section": "s"}, "reviewed": date(2026, 11, 26),
    })


def test_lookup_by_id_and_intent() -> None:
    index = KnowledgeIndex([entry("a-long", ["ask_visa_long_term"]), entry("b-work", ["ask_visa_work"])])
    assert len(index) == 2
    assert index.get("a-long") is not None
    assert "b-work" in index
    assert index.get("missing") is None
    assert [e.id for e in index.for_intent("ask_visa_work")] == ["b-work"]
    assert index.for_intent("ask_boao") == []


def test_entry_naming_the_intent_first_comes_first() -> None:
    index = KnowledgeIndex([
        entry("a-broad", ["ask_visa", "ask_costs"]),
        entry("b-side", ["ask_visa_work", "ask_costs"]),
        entry("c-main", ["ask_costs"], topic="costs"),
        entry("d-also-first", ["ask_costs", "ask_payment"], topic="costs"),
    ])
    assert [e.id for e in index.for_intent("ask_costs")] == ["c-main", "d-also-first", "a-broad", "b-side"]
    assert [e.id for e in index.for_intent("ask_costs", topics=["visa"])] == ["a-broad", "b-side"]
    assert [e.id for e in index.for_topic("costs")] == ["c-main", "d-also-first"]


def test_flow_only_entries_are_found_by_id_not_by_intent() -> None:
    index = KnowledgeIndex([entry("visa-purpose-outpatient", [])])
    assert index.get("visa-purpose-outpatient") is not None
    assert all(index.for_intent(name) == [] for name in ("ask_visa", "ask_visa_short_term"))


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        KnowledgeIndex([entry("same", []), entry("same", [])])


def test_cache_reloads_when_a_file_arrives_and_skips_invalid_ones(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    cache = _Cache(check_interval=0)
    assert len(cache.get(folder, LANGS)) == 0
    shutil.copytree(FIXTURES, folder)
    assert sorted(e.id for e in cache.get(folder, LANGS).entries) == ["costs-test-mri", "visa-test-long-term"]
    (folder / "visa" / "broken.yml").write_text("id: broken\n", encoding="utf-8")
    assert len(cache.get(folder, LANGS)) == 2


def test_cache_looks_at_the_folder_at_most_once_per_interval(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    now = [100.0]
    cache = _Cache(check_interval=2.0, clock=lambda: now[0])
    assert len(cache.get(folder, LANGS)) == 0
    shutil.copytree(FIXTURES, folder)
    now[0] += 1.9
    assert len(cache.get(folder, LANGS)) == 0  # not looked at yet
    now[0] += 0.2
    assert len(cache.get(folder, LANGS)) == 2
    assert len(cache.get(tmp_path / "elsewhere", LANGS)) == 0  # another folder is looked at at once
