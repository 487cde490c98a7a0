"""Every knowledge entry traces to a seed file: the seed exists, the section and the figures are in it.

These checks read the YAML directly (not through bot.kb) so that they guard the *content* of knowledge/
independently of the loader: a fact, a number or an amount that no seed states makes this test fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
# In CI and in the work tree, shared/ sits beside the clone.
SEEDS = Path(os.environ.get("MC_SEEDS_DIR", REPO.parent / "shared" / "seeds"))

LANGUAGES = ("en", "zh", "ru", "ar", "ko", "ja")
TOPICS = {
    "visa", "boao", "appointment", "documents", "interpreters", "hospitals",
    "payment", "insurance", "costs", "process", "emergency", "general",
}
# Intents answered from the knowledge base: each one must have exactly one main entry (dialogs/INTENTS.md).
KNOWLEDGE_INTENTS = {
    "ask_visa", "ask_visa_short_term", "ask_visa_long_term", "ask_visa_companion", "ask_visa_work",
    "ask_boao", "ask_appointment", "ask_documents", "ask_interpreter", "ask_hospitals", "ask_payment",
    "ask_deposit_refund", "ask_insurance", "ask_costs", "ask_process", "emergency",
}
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
# A number in running text; list markers ("1. ", "2) ") at the start of a line are not facts.
NUMBER = re.compile(r"(?<![A-Za-z\d.,])\d+(?:[.,]\d+)*")
LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


def _normalise(text: str) -> str:
    """Case, quote style, dash style and whitespace do not matter when matching a section or a figure."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace("\u2013", "-")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _entry_files() -> list[Path]:
    return sorted(KNOWLEDGE.glob("*/*.yml"))


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), f"{path}: not a mapping"
    return data


def _seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


ENTRY_FILES = _entry_files()


def test_seeds_directory_and_entries_exist() -> None:
    assert SEEDS.is_dir(), f"seed directory not found: {SEEDS}"
    assert len(ENTRY_FILES) >= 40, f"expected at least 40 knowledge entries, found {len(ENTRY_FILES)}"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_entry_shape(path: Path) -> None:
    entry = _load(path)
    assert entry.get("id") == path.stem, f"{path}: id must equal the file name"
    assert re.fullmatch(r"[a-z0-9-]+", entry["id"]), f"{path}: id"
    assert entry.get("topic") == path.parent.name, f"{path}: topic must equal the folder name"
    assert entry["topic"] in TOPICS, f"{path}: topic"
    assert isinstance(entry.get("intents"), list), f"{path}: intents"
    unknown = set(entry["intents"]) - KNOWLEDGE_INTENTS
    assert not unknown, f"{path}: intents not answered from knowledge: {unknown}"
    questions = entry.get("questions")
    assert isinstance(questions, list) and questions, f"{path}: questions"
    assert all(isinstance(q, str) and q.strip() for q in questions), f"{path}: questions"
    assert isinstance(entry.get("reviewed"), dt.date), f"{path}: reviewed must be a date"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_every_language_present(path: Path) -> None:
    answer = _load(path).get("answer")
    assert isinstance(answer, dict), f"{path}: answer"
    for language in LANGUAGES:
        text = answer.get(language)
        assert isinstance(text, str) and text.strip(), f"{path}: answer.{language} missing or empty"
    assert set(answer) == set(LANGUAGES), f"{path}: unexpected languages {set(answer) - set(LANGUAGES)}"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_source_seed_and_section_exist(path: Path) -> None:
    source = _load(path).get("source")
    assert isinstance(source, dict), f"{path}: source"
    seed = source.get("seed")
    assert isinstance(seed, str) and (SEEDS / seed).is_file(), f"{path}: source.seed {seed!r} not in {SEEDS}"
    section = source.get("section")
    assert isinstance(section, str) and section.strip(), f"{path}: source.section"
    text = _normalise(_seed_text(seed))
    # A section is a path of headings (or a paragraph's opening words) joined by " — ".
    for part in section.split(" — "):
        assert _normalise(part) in text, f"{path}: section part {part!r} not found in {seed}"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_amounts_are_stated_in_the_seed(path: Path) -> None:
    entry = _load(path)
    amounts = entry.get("amounts") or {}
    text = _seed_text(entry["source"]["seed"])
    for name, amount in amounts.items():
        assert amount.get("currency") == "CNY", f"{path}: amounts.{name}.currency"
        value = amount.get("value")
        assert isinstance(value, int | float), f"{path}: amounts.{name}.value"
        spellings = {str(value), f"{value:,}"}
        assert any(re.search(rf"(?<![\d,]){re.escape(s)}\s*RMB", text) for s in spellings), (
            f"{path}: amount {name}={value} RMB not stated in {entry['source']['seed']}"
        )
    for language, answer in entry["answer"].items():
        used = set(PLACEHOLDER.findall(answer))
        assert used == set(amounts), f"{path}: answer.{language} placeholders {used} != amounts {set(amounts)}"


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_english_numbers_are_stated_in_the_seed(path: Path) -> None:
    """Catches invented figures (an emergency number, a price, a duration) in the reference language."""
    entry = _load(path)
    seed = _normalise(_seed_text(entry["source"]["seed"]))
    english = LIST_MARKER.sub("", entry["answer"]["en"])
    for number in NUMBER.findall(english):
        assert re.search(rf"(?<![\d,]){re.escape(number)}(?![\d,])", seed), (
            f"{path}: number {number} in answer.en is not in {entry['source']['seed']}"
        )


def test_each_knowledge_intent_has_exactly_one_main_entry() -> None:
    owners: dict[str, list[str]] = {intent: [] for intent in KNOWLEDGE_INTENTS}
    for path in ENTRY_FILES:
        for intent in _load(path)["intents"]:
            owners.setdefault(intent, []).append(path.stem)
    wrong = {intent: ids for intent, ids in owners.items() if len(ids) != 1}
    assert not wrong, f"each knowledge intent needs exactly one entry: {wrong}"


def test_ids_are_unique() -> None:
    ids = [path.stem for path in ENTRY_FILES]
    assert len(ids) == len(set(ids))
