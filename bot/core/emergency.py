"""A deterministic safety net for emergencies: a multilingual lexicon checked before anything else.

The NLU also has an ``emergency`` intent; this lexicon makes the emergency reply fire even while a
coordinator owns the conversation or when the classifier is unsure. Bare words such as
"emergency" are left to the classifier: "which visa for emergency treatment?" is a visa question.
"""

from __future__ import annotations

import re
import unicodedata

EMERGENCY_PAYLOAD = "/emergency"

_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "chest pain", "can't breathe", "cannot breathe", "can not breathe", "not breathing",
        "difficulty breathing", "heart attack", "stroke", "unconscious", "passed out", "fainted",
        "severe bleeding", "bleeding heavily", "seizure", "overdose", "suicide", "kill myself",
        "choking", "ambulance", "car accident", "collapsed",
    ),
    "zh": (
        "胸痛", "胸口痛", "喘不过气", "呼吸困难", "不能呼吸", "心脏病发作", "中风", "昏迷", "晕倒",
        "昏倒", "大出血", "流血不止", "抽搐", "癫痫发作", "急救", "救护车", "车祸", "自杀",
    ),
    "ru": (
        "боль в груди", "не могу дышать", "трудно дышать", "задыхаюсь", "сердечный приступ",
        "инфаркт", "инсульт", "без сознания", "потерял сознание", "потеряла сознание",
        "сильное кровотечение", "судороги", "скорая", "авария", "самоубийств",
    ),
    "ar": (
        "ألم في الصدر", "ألم بالصدر", "لا أستطيع التنفس", "صعوبة في التنفس", "نوبة قلبية",
        "سكتة دماغية", "فاقد الوعي", "فقدان الوعي", "إغماء", "نزيف حاد", "نزيف شديد", "تشنجات",
        "إسعاف", "حادث سيارة", "انتحار",
    ),
    "ko": (
        "가슴 통증", "가슴이 아파", "숨을 쉴 수 없", "숨을 못 쉬", "숨쉬기 힘", "호흡곤란", "호흡 곤란",
        "심장마비", "뇌졸중", "의식이 없", "의식을 잃", "기절", "심한 출혈", "출혈이 심", "경련",
        "구급차", "교통사고", "자살",
    ),
    "ja": (
        "胸の痛み", "胸が痛", "息ができない", "呼吸ができない", "呼吸困難", "息苦し", "心臓発作",
        "脳卒中", "意識がない", "意識不明", "気を失", "気絶", "大量出血", "出血が止まらない",
        "けいれん", "痙攣", "救急", "交通事故", "自殺",
    ),
}


def _normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("’", "'").replace("`", "'")
    return re.sub(r"\s+", " ", folded)


_PATTERNS = [(_normalize(p), lang) for lang, phrases in _PHRASES.items() for p in phrases]


def looks_like_emergency(text: str) -> bool:
    """True when the text contains an emergency phrase in any supported language."""
    normalized = _normalize(text)
    return any(pattern in normalized for pattern, _lang in _PATTERNS)
