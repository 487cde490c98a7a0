"""Canned answers for the reply box: the knowledge base's answers in the patient's language."""

from __future__ import annotations

from dataclasses import dataclass

from bot.kb.index import KnowledgeIndex, current_index
from bot.kb.render import render_answer


@dataclass(frozen=True)
class CannedAnswer:
    """One knowledge entry as the reply box offers it (text rendered with amounts and source footer)."""

    kb_id: str
    topic: str
    title: str
    text: str


def canned_answers(language: str, index: KnowledgeIndex | None = None) -> list[CannedAnswer]:
    """Every knowledge answer rendered in ``language`` (English where an entry lacks it), by topic and title."""
    index = index if index is not None else current_index()
    answers = [
        CannedAnswer(kb_id=entry.id, topic=entry.topic, title=entry.questions[0], text=render_answer(entry, language))
        for entry in index.entries
    ]
    return sorted(answers, key=lambda a: (a.topic, a.title))
