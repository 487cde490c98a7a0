"""The intake form's answers: skip words in six languages, and the mapping from form slots to case fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Stored in a slot for a skipped question (a form needs a value to move on); becomes None on the case.
SKIPPED = "-"
SKIP_WORDS = frozenset({
    "/skip", "skip", "-", "pass", "next", "no answer",
    "跳过", "略过", "跳過",
    "пропустить", "пропуск", "дальше",
    "تخطي", "تخطى", "تجاوز",
    "건너뛰기", "건너뛰다", "패스",
    "スキップ", "とばす", "飛ばす",
})
# Form slot -> Case.intake field.
SLOT_FIELDS: dict[str, str] = {
    "intake_name": "name",
    "intake_country": "country",
    "intake_treatment": "treatment",
    "intake_place": "preferred_place",
    "intake_travel_window": "travel_window",
    "intake_contact": "contact",
}
MAX_ANSWER_CHARS = 500


def is_skip(answer: str, localized_skip_titles: tuple[str, ...] = ()) -> bool:
    """True when the patient skipped the question (a skip word, or the localized Skip button title)."""
    word = " ".join(answer.split()).strip(" .!。！").lower()
    return word in SKIP_WORDS or word in {title.lower() for title in localized_skip_titles}


def normalize_answer(answer: Any, localized_skip_titles: tuple[str, ...] = ()) -> str:
    """The value to keep in the slot: the trimmed answer, or :data:`SKIPPED`."""
    text = str(answer or "").strip()
    if not text or is_skip(text, localized_skip_titles):
        return SKIPPED
    return text[:MAX_ANSWER_CHARS]


def intake_from_slots(slots: Mapping[str, Any]) -> dict[str, str | None]:
    """Case.intake from the form's slots; skipped or missing answers become None."""
    intake: dict[str, str | None] = {}
    for slot, field in SLOT_FIELDS.items():
        value = slots.get(slot)
        text = str(value).strip() if value is not None else ""
        intake[field] = None if not text or text == SKIPPED else text[:MAX_ANSWER_CHARS]
    return intake
