"""Offline language detection for the six supported languages (lingua), with a channel hint for ties."""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_LINGUA = {
    "en": Language.ENGLISH,
    "zh": Language.CHINESE,
    "ru": Language.RUSSIAN,
    "ar": Language.ARABIC,
    "ko": Language.KOREAN,
    "ja": Language.JAPANESE,
}
_CODES = {language: code for code, language in _LINGUA.items()}
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_KANA = re.compile(r"[\u3040-\u30ff]")
# Below this margin between the two best candidates, a channel hint decides.
TIE_MARGIN = 0.15
MIN_LETTERS = 2
# A remembered language is not switched by a reply this short ("ok", "да", "1") in its own script.
MIN_LETTERS_TO_SWITCH = 4
# Scripts each language is written in: a short text in another script ("胸痛" after English) must switch.
_SCRIPTS: dict[str, re.Pattern[str]] = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"),
}
_LANGUAGE_SCRIPTS = {
    "en": {"latin"}, "ru": {"cyrillic"}, "ar": {"arabic"}, "zh": {"han"}, "ja": {"han", "kana"},
    "ko": {"hangul", "han"},
}
# A few Chinese characters only ("胸痛", "予約") are a true tie between Chinese and Japanese; a longer
# text without any kana is Chinese (Japanese sentences use kana), which lingua recognises.
MAX_HAN_TIE_LETTERS = 4
_HAN_LANGUAGES = ("zh", "ja")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*(_LINGUA[c] for c in codes)).build()


def normalize_hint(hint: str | None, supported: tuple[str, ...]) -> str | None:
    """Map a channel hint such as ``en-US``, ``zh-hans`` or ``pt-br`` to a supported code, or None."""
    if not hint:
        return None
    code = hint.strip().lower().replace("_", "-").split("-")[0]
    return code if code in supported else None


def detect_language(text: str, hint: str | None, supported: tuple[str, ...]) -> str | None:
    """The language of ``text`` among ``supported``; None when the text has too few letters to tell.

    Japanese kana is decisive (Chinese never uses it); otherwise lingua's confidence values are used
    and a close call goes to the hint when the hint is one of the two best candidates.
    """
    normalized_hint = normalize_hint(hint, supported)
    if len(_LETTERS.findall(text)) < MIN_LETTERS:
        return None
    if "ja" in supported and _KANA.search(text):
        return "ja"
    confidences = _detector(tuple(sorted(supported))).compute_language_confidence_values(text)
    ranked = [(_CODES[c.language], c.value) for c in confidences if c.language in _CODES]
    if not ranked:
        return normalized_hint
    best_code, best_value = ranked[0]
    if len(ranked) > 1 and normalized_hint is not None:
        second_code, second_value = ranked[1]
        close = best_value - second_value < TIE_MARGIN
        if close and normalized_hint in (best_code, second_code):
            return normalized_hint
    return best_code


def scripts_of(text: str) -> set[str]:
    """The writing systems used in ``text`` (latin, cyrillic, arabic, han, kana, hangul)."""
    return {name for name, pattern in _SCRIPTS.items() if pattern.search(text)}


def _han_only_choice(
    remembered: str | None, hint: str | None, supported: tuple[str, ...], text: str
) -> str | None:
    """Chinese or Japanese for text in Chinese characters only: memory, then the hint, then detection."""
    candidates = [code for code in _HAN_LANGUAGES if code in supported]
    for preferred in (remembered, normalize_hint(hint, supported)):
        if preferred in candidates:
            return preferred
    detected = detect_language(text, None, tuple(candidates)) if len(candidates) > 1 else None
    return detected or (candidates[0] if candidates else None)


def choose_language(
    text: str,
    hint: str | None,
    remembered: str | None,
    locked: bool,
    supported: tuple[str, ...],
    default: str,
) -> str:
    """The language to answer in: a locked choice wins, then detection, then memory, hint, default.

    A short reply in the remembered language's script keeps it; a few Chinese characters only keep a
    remembered (or hinted) Chinese or Japanese, since both write them.
    """
    if locked and remembered in supported:
        return str(remembered)
    if text.startswith("/"):
        return remembered or normalize_hint(hint, supported) or default
    scripts = scripts_of(text)
    letters = len(_LETTERS.findall(text))
    # Short Latin words ("ok", "MRI") are used in every language; other scripts are decisive.
    foreign = scripts - _LANGUAGE_SCRIPTS.get(remembered or "", set()) - {"latin"}
    if remembered and letters < MIN_LETTERS_TO_SWITCH and not foreign:
        return remembered
    if scripts == {"han"} and letters <= MAX_HAN_TIE_LETTERS:
        choice = _han_only_choice(remembered, hint, supported, text)
        if choice:
            return choice
    detected = detect_language(text, hint, supported)
    return detected or remembered or normalize_hint(hint, supported) or default
