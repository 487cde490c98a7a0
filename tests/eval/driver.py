"""The evaluation driver: sends held-out questions through the REST channel and scores the replies.

A question's prediction is read from the markers every reply carries: ``custom.emergency`` →
``emergency``, ``custom.fallback`` → ``out_of_scope`` (the bot fell back), else ``custom.intent``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

OUT_OF_SCOPE = "out_of_scope"
MIN_IN_SCOPE_ACCURACY = 0.90
MIN_OUT_OF_SCOPE_FALLBACK = 0.85
Say = Callable[[str, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Question:
    text: str
    intent: str


@dataclass(frozen=True)
class EvalSet:
    language: str
    questions: list[Question]


@dataclass
class LanguageScore:
    """In-scope accuracy and out-of-scope fallback rate of one language, with the misses."""

    language: str
    in_scope: int = 0
    in_scope_correct: int = 0
    out_of_scope: int = 0
    fell_back: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (expected, predicted, text)

    @property
    def accuracy(self) -> float:
        return self.in_scope_correct / self.in_scope if self.in_scope else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fell_back / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def passed(self) -> bool:
        return self.accuracy >= MIN_IN_SCOPE_ACCURACY and self.fallback_rate >= MIN_OUT_OF_SCOPE_FALLBACK


def load_eval_set(path: Path) -> EvalSet:
    """Read ``<lang>.yml`` (``language`` and ``questions: [{text, intent}]``), failing on a malformed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError(f"{path}: expected 'language' and a list of 'questions'")
    language = str(data.get("language") or path.stem)
    questions = []
    for number, item in enumerate(data["questions"], start=1):
        if not isinstance(item, dict) or not item.get("text") or not item.get("intent"):
            raise ValueError(f"{path}: questions[{number}] needs 'text' and 'intent'")
        questions.append(Question(str(item["text"]), str(item["intent"])))
    return EvalSet(language, questions)


def load_eval_sets(directory: Path) -> list[EvalSet]:
    return [load_eval_set(path) for path in sorted(directory.glob("*.yml"))]


def predicted_label(replies: Iterable[dict[str, Any]]) -> str:
    """What the bot understood, from the reply markers (``none`` when no reply carried any)."""
    customs = [reply.get("custom") or {} for reply in replies]
    if any(custom.get("emergency") is True for custom in customs):
        return "emergency"
    if any(custom.get("fallback") is True for custom in customs):
        return OUT_OF_SCOPE
    for custom in customs:
        if custom.get("intent"):
            return str(custom["intent"])
    return "none"


def score(eval_set: EvalSet, say: Say) -> LanguageScore:
    """Ask every question from a fresh sender (so no form or fallback streak carries over) and score it."""
    result = LanguageScore(eval_set.language)
    for number, question in enumerate(eval_set.questions):
        sender = f"eval-{eval_set.language}-{number}-{uuid.uuid4().hex[:8]}"
        predicted = predicted_label(say(sender, question.text))
        if question.intent == OUT_OF_SCOPE:
            result.out_of_scope += 1
            result.fell_back += predicted == OUT_OF_SCOPE
        else:
            result.in_scope += 1
            result.in_scope_correct += predicted == question.intent
        if predicted != question.intent:
            result.misses.append((question.intent, predicted, question.text))
    return result


def table(scores: Iterable[LanguageScore]) -> str:
    """A Markdown table of the figures per language."""
    lines = [
        "| language | in-scope | correct | accuracy | out-of-scope | fell back | rate | pass |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in scores:
        lines.append(
            f"| {s.language} | {s.in_scope} | {s.in_scope_correct} | {s.accuracy:.1%} | {s.out_of_scope} | "
            f"{s.fell_back} | {s.fallback_rate:.1%} | {'yes' if s.passed else 'NO'} |"
        )
    return "\n".join(lines)


def write_report(scores: list[LanguageScore], directory: Path, name: str = "eval") -> Path:
    """``reports/<name>.md`` (table and misses) and ``reports/<name>.json``; returns the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = [
        "# Held-out evaluation through the REST channel",
        f"Thresholds: in-scope accuracy ≥ {MIN_IN_SCOPE_ACCURACY:.0%}, "
        f"out-of-scope → fallback ≥ {MIN_OUT_OF_SCOPE_FALLBACK:.0%}.",
        table(scores),
        "## Misses (expected → predicted)",
    ]
    for s in scores:
        parts.extend(f"- {s.language}: {exp} → {pred}: {text}" for exp, pred, text in s.misses)
    markdown = directory / f"{name}.md"
    markdown.write_text("\n\n".join(parts[:4]) + "\n\n" + "\n".join(parts[4:]) + "\n", encoding="utf-8")
    figures = [
        {"language": s.language, "in_scope": s.in_scope, "correct": s.in_scope_correct, "accuracy": s.accuracy,
         "out_of_scope": s.out_of_scope, "fell_back": s.fell_back, "fallback_rate": s.fallback_rate,
         "misses": [{"expected": e, "predicted": p, "text": t} for e, p, t in s.misses]}
        for s in scores
    ]
    (directory / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return markdown
