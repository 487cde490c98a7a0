"""Language switch: ``/language`` or "speak Russian please" → the six languages as buttons; a choice sticks.

The choice is stored on the patient (``language`` and ``language_locked``) so the application keeps
answering in it whatever the patient writes next (see bot.core.language.choose_language). A typed
request never switches by itself: "is there an English interpreter?" can be mistaken for a switch
request, and a wrong lock would keep the patient in a language they cannot read. The language the
message names is offered as the first button instead.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.context import database, language_of
from bot.actions.replies import latest_intent, say
from bot.i18n import t
from bot.settings import get_settings
from bot.storage.models import Patient

# Each language's own name: a patient who cannot read the current language still finds theirs.
NATIVE_NAMES = {"en": "English", "zh": "中文", "ru": "Русский", "ar": "العربية", "ko": "한국어", "ja": "日本語"}
LANGUAGE_ENTITY = "ui_language"
# Names of the languages as patients write them in any of the six languages (lowercase stems).
_NAMED: dict[str, tuple[str, ...]] = {
    "en": ("english", "англий", "英语", "英文", "الإنجليزية", "الانجليزية", "영어", "英語"),
    "zh": ("chinese", "mandarin", "китай", "中文", "汉语", "普通话", "الصينية", "중국어", "中国語"),
    "ru": ("russian", "русск", "по-русски", "俄语", "俄文", "الروسية", "러시아어", "ロシア語"),
    "ar": ("arabic", "араб", "阿拉伯语", "العربية", "عربي", "아랍어", "アラビア語"),
    "ko": ("korean", "корей", "韩语", "韩文", "朝鲜语", "الكورية", "한국어", "韓国語"),
    "ja": ("japanese", "япон", "日语", "日文", "اليابانية", "일본어", "日本語"),
}


def named_language(text: str) -> str | None:
    """The one supported language named in ``text`` ("speak Russian please"), or None when zero or several."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found = {code for code, stems in _NAMED.items() if any(stem in folded for stem in stems)}
    return found.pop() if len(found) == 1 else None


def language_buttons(first: str | None = None) -> list[dict[str, str]]:
    """One button per supported language in its own name; ``first`` (the one the patient named) leads."""
    languages = sorted(get_settings().languages, key=lambda code: code != first)
    return [
        {"title": NATIVE_NAMES[code], "payload": f'/choose_language{{"{LANGUAGE_ENTITY}":"{code}"}}'}
        for code in languages
    ]


async def lock_language(sender_id: str, language: str) -> bool:
    """Store the patient's choice; False when the application does not know this sender."""
    async with database().session() as session:
        patient = (await session.execute(select(Patient).where(Patient.sender_id == sender_id))).scalar_one_or_none()
        if patient is None:
            return False
        patient.language = language
        patient.language_locked = True
        return True


def _confirm(dispatcher: CollectingDispatcher, language: str) -> None:
    text = t(language, "From now on I will answer in {name}. You can change it any time with /language.",
             name=NATIVE_NAMES[language])
    say(dispatcher, text, "change_language", language=language)


class ActionOfferLanguages(Action):
    """Shows the languages as buttons, the one the message names first."""

    def name(self) -> str:
        return "action_offer_languages"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        wanted = None if text.startswith("/") else named_language(text)
        prompt = t(language, "Please choose your language:")
        say(dispatcher, prompt, "change_language", language_buttons(wanted), suggested=wanted)
        return []


class ActionSetLanguage(Action):
    """A language button was pressed: remember the choice for good and confirm in that language."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        chosen = next(tracker.get_latest_entity_values(LANGUAGE_ENTITY), None)
        if chosen not in get_settings().languages or chosen is None:
            language = language_of(tracker)
            say(dispatcher, t(language, "Please choose your language:"), latest_intent(tracker) or "change_language",
                language_buttons())
            return []
        # A sender unknown to the application (Rasa driven directly) still gets the confirmation.
        await lock_language(tracker.sender_id, chosen)
        _confirm(dispatcher, str(chosen))
        return []

