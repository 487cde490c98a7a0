"""Choosing the answer language: lock, detection, memory, script changes, the Chinese/Japanese tie, hints."""

from __future__ import annotations

import pytest

from bot.core.language import choose_language, detect_language, normalize_hint, scripts_of

ALL = ("en", "zh", "ru", "ar", "ko", "ja")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Which visa do I need for treatment in China?", "en"),
        ("我需要什么签证才能去中国看病？", "zh"),
        ("Какая виза нужна для лечения в Китае?", "ru"),
        ("ما هي التأشيرة التي أحتاجها للعلاج في الصين؟", "ar"),
        ("중국에서 치료를 받으려면 어떤 비자가 필요한가요?", "ko"),
        ("中国で治療を受けるにはどのビザが必要ですか？", "ja"),
    ],
)
def test_detects_each_supported_language(text: str, expected: str) -> None:
    assert detect_language(text, None, ALL) == expected
    assert choose_language(text, None, None, False, ALL, "en") == expected


def test_locked_language_wins_over_detection() -> None:
    assert choose_language("Привет, как записаться к врачу?", "ru", "en", True, ALL, "en") == "en"


def test_payloads_keep_the_remembered_language() -> None:
    assert choose_language('/choose{"visa_purpose":"outpatient"}', None, "ar", False, ALL, "en") == "ar"
    assert choose_language("/language", "ko-KR", None, False, ALL, "en") == "ko"
    assert choose_language("/language", None, None, False, ALL, "ja") == "ja"


def test_short_latin_reply_keeps_the_remembered_language() -> None:
    assert choose_language("ok", None, "ru", False, ALL, "en") == "ru"
    assert choose_language("да", None, "ru", False, ALL, "en") == "ru"


def test_short_text_in_another_script_switches() -> None:
    # "胸痛" (chest pain) after an English conversation must be answered in Chinese at once.
    assert choose_language("胸痛", None, "en", False, ALL, "en") == "zh"
    assert choose_language("да", None, "en", False, ALL, "en") == "ru"


def test_a_few_chinese_characters_keep_japanese_from_memory_or_hint() -> None:
    assert choose_language("胸痛", None, "ja", False, ALL, "en") == "ja"
    assert choose_language("胸痛", "ja-JP", None, False, ALL, "en") == "ja"
    assert choose_language("胸痛", "zh-CN", "ja", False, ALL, "en") == "ja"
    assert choose_language("胸痛", None, None, False, ALL, "en") in ("zh", "ja")


def test_a_long_chinese_sentence_is_chinese_even_after_japanese() -> None:
    assert choose_language("我需要什么签证才能去中国看病", None, "ja", False, ALL, "en") == "zh"


def test_hint_breaks_a_tie_between_the_two_best_candidates() -> None:
    # Too few letters to tell: the hint decides, then memory, then the default.
    assert choose_language("1", "ar", None, False, ALL, "en") == "ar"
    assert choose_language("1", None, None, False, ALL, "ko") == "ko"


def test_hint_normalization() -> None:
    assert normalize_hint("zh-Hans", ALL) == "zh"
    assert normalize_hint("pt_BR", ALL) is None
    assert normalize_hint(None, ALL) is None


def test_scripts_of_mixed_text() -> None:
    assert scripts_of("MRI 검사 비용") == {"latin", "hangul"}
    assert scripts_of("ビザ") == {"kana"}
    assert scripts_of("123") == set()


def test_unsupported_languages_are_never_chosen() -> None:
    assert choose_language("Какая виза нужна для лечения?", None, None, False, ("en", "zh"), "en") in ("en", "zh")
