"""Validity of the held-out evaluation set in ``tests/eval/data/<lang>.yml``.

The set is the yardstick for the NLU: it must cover every intent of the contract
(``dialogs/INTENTS.md``) with a fixed number of questions per language, contain no duplicates,
and never leak into the training data (``dialogs/data/nlu/*.yml``). A leaked sentence would make
the measured accuracy a measure of memorisation, so the leakage check is the important one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = Path(__file__).resolve().parent / "data"
INTENTS_MD = ROOT / "dialogs" / "INTENTS.md"
NLU_DIR = ROOT / "dialogs" / "data" / "nlu"

LANGUAGES = ("en", "zh", "ru", "ar", "ko", "ja")
OUT_OF_SCOPE = "out_of_scope"
SMALL_TALK = frozenset({"greet", "goodbye", "affirm", "deny"})
PER_INTENT = 4
PER_SMALL_TALK = 2
PER_OUT_OF_SCOPE = 12

# A question must contain at least one character of its language's script: catches a question
# pasted into the wrong file (a Japanese question must contain kana, not only kanji).
_SCRIPT = {
    "en": re.compile(r"[A-Za-z]"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "ko": re.compile(r"[\uac00-\ud7af]"),
    "ja": re.compile(r"[\u3040-\u30ff]"),
}

# Rasa entity annotations: [text](entity), [text]{"entity": ...}; the example's text is the bracket content.
_ENTITY_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_TABLE_ROW = re.compile(r"^\|\s*`?([a-z][a-z0-9_]*)`?\s*\|")


def contract_intents() -> list[str]:
    """The intents named in the first column of the table in dialogs/INTENTS.md."""
    intents = []
    for line in INTENTS_MD.read_text(encoding="utf-8").splitlines():
        match = _TABLE_ROW.match(line.strip())
        if match and match.group(1) != "intent":  # "intent" is the header cell
            intents.append(match.group(1))
    return intents


def required_counts() -> dict[str, int]:
    """How many evaluation questions each intent needs in every language."""
    counts = {}
    for intent in contract_intents():
        if intent == OUT_OF_SCOPE:
            counts[intent] = PER_OUT_OF_SCOPE
        elif intent in SMALL_TALK:
            counts[intent] = PER_SMALL_TALK
        else:
            counts[intent] = PER_INTENT
    counts.setdefault(OUT_OF_SCOPE, PER_OUT_OF_SCOPE)
    return counts


def normalize(text: str) -> str:
    """Compare texts case-insensitively, ignoring surrounding and repeated whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def load_eval(language: str) -> dict[str, Any]:
    """The parsed evaluation file of one language."""
    data = yaml.safe_load((EVAL_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{language}.yml: top level must be a mapping"
    return data


def questions_of(language: str) -> list[dict[str, str]]:
    """The questions of one language (validated by test_file_is_well_formed)."""
    questions: list[dict[str, str]] = load_eval(language)["questions"]
    return questions


def _example_texts(examples: Any) -> list[str]:
    """Texts of a Rasa NLU ``examples`` field: a block of "- text" lines or a list of {text: ...}."""
    if isinstance(examples, str):
        lines = (line.strip() for line in examples.splitlines())
        texts = [line[2:] for line in lines if line.startswith("- ")]
    elif isinstance(examples, list):
        texts = [item["text"] if isinstance(item, dict) else str(item) for item in examples]
    else:
        texts = []
    return [_ENTITY_ANNOTATION.sub(r"\1", text) for text in texts]


def training_texts() -> dict[str, str]:
    """Every NLU example of every dialogs/data/nlu/*.yml file: normalized text -> file name."""
    found: dict[str, str] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            for text in _example_texts(item.get("examples")):
                found.setdefault(normalize(text), path.name)
    return found


def test_contract_table_parses() -> None:
    intents = contract_intents()
    assert len(intents) == len(set(intents)), "an intent is listed twice in INTENTS.md"
    assert {"greet", "ask_visa", "emergency", OUT_OF_SCOPE} <= set(intents)
    assert all(count > 0 for count in required_counts().values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_file_is_well_formed(language: str) -> None:
    data = load_eval(language)
    assert data.get("language") == language
    questions = data.get("questions")
    assert isinstance(questions, list) and questions, f"{language}.yml: questions must be a non-empty list"
    for index, question in enumerate(questions):
        where = f"{language}.yml questions[{index}]"
        assert isinstance(question, dict) and set(question) == {"text", "intent"}, f"{where}: needs text and intent"
        assert isinstance(question["text"], str) and question["text"].strip(), f"{where}: empty text"
        assert isinstance(question["intent"], str), f"{where}: intent must be a string"
        assert _SCRIPT[language].search(question["text"]), f"{where}: not written in {language}: {question['text']!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_is_in_the_contract(language: str) -> None:
    known = set(contract_intents()) | {OUT_OF_SCOPE}
    unknown = sorted({q["intent"] for q in questions_of(language)} - known)
    assert not unknown, f"{language}.yml: intents not in dialogs/INTENTS.md: {unknown}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_required_count_per_intent(language: str) -> None:
    counts = Counter(q["intent"] for q in questions_of(language))
    wrong = {
        intent: (counts.get(intent, 0), needed)
        for intent, needed in required_counts().items()
        if counts.get(intent, 0) != needed
    }
    assert not wrong, f"{language}.yml: intent -> (found, required): {wrong}"


def test_no_duplicate_texts() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for language in LANGUAGES:
        for question in questions_of(language):
            key = normalize(question["text"])
            if key in seen:
                duplicates.append(f"{language}: {question['text']!r} (also in {seen[key]})")
            seen[key] = language
    assert not duplicates, duplicates


def test_training_data_exists_for_every_language() -> None:
    # Without the training files the leakage check below would pass vacuously.
    missing = [language for language in LANGUAGES if not (NLU_DIR / f"{language}.yml").is_file()]
    assert not missing, f"no NLU training data to check for leakage: {missing}"
    assert training_texts(), "the NLU training files contain no examples"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_eval_question_is_in_the_training_data(language: str) -> None:
    training = training_texts()
    leaked = [
        f"{q['text']!r} is in {training[normalize(q['text'])]}"
        for q in questions_of(language)
        if normalize(q["text"]) in training
    ]
    assert not leaked, f"held-out questions of {language}.yml leaked into training data: {leaked}"
