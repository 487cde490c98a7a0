"""The emergency lexicon fires in every language and not on ordinary questions."""

from __future__ import annotations

import pytest

from bot.core.emergency import looks_like_emergency


@pytest.mark.parametrize("text", [
    "My father has CHEST PAIN right now",
    "I can’t breathe",
    "我妈妈胸痛",
    "у мужа боль в груди",
    "أبي لديه ألم في الصدر",
    "아버지가 가슴 통증이 있어요",
    "夫が胸が痛いと言っています",
])
def test_emergencies_are_recognised(text: str) -> None:
    assert looks_like_emergency(text)


@pytest.mark.parametrize("text", [
    "Which visa do I need for emergency treatment while travelling?",
    "How do I pay the deposit?",
    "签证需要多长时间",
    "Сколько стоит МРТ?",
])
def test_ordinary_questions_are_not_emergencies(text: str) -> None:
    assert not looks_like_emergency(text)
