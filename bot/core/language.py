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
# A remembered language is not switched by a reply this short ("ok", "да", "1").
MIN_LETTERS_TO_SWITCH = 4


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


def choose_language(
    text: str,
    hint: str | None,
    remembered: str | None,
    locked: bool,
    supported: tuple[str, ...],
    default: str,
) -> str:
    """The language to answer in: a locked choice wins, then detection, then memory, hint, default."""
    if locked and remembered in supported:
        return str(remembered)
    if text.startswith("/"):
        return remembered or normalize_hint(hint, supported) or default
    if remembered and len(_LETTERS.findall(text)) < MIN_LETTERS_TO_SWITCH:
        return remembered
    detected = detect_language(text, hint, supported)
    return detected or remembered or normalize_hint(hint, supported) or default
