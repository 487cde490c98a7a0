"""Interface strings of the web chat page, translated through the gettext catalogs.

The page's labels are marked here with ``N_`` (so ``scripts/update_catalogs.py`` extracts them) and
translated per request with :func:`bot.i18n.t`; translations live in ``locales/sources/webchat.yml``.
"""

from __future__ import annotations

from bot.i18n import N_, t

# Each language's own name (the picker must be readable by someone who cannot read the current language).
NATIVE_NAMES = {"en": "English", "zh": "中文", "ru": "Русский", "ar": "العربية", "ko": "한국어", "ja": "日本語"}

# Page label key -> English msgid.
LABELS: dict[str, str] = {
    "title": N_("Chat with MedConcierge"),
    "intro": N_("Ask about visas, hospitals, costs and documents for treatment in China. "
                "This assistant gives general information, not medical advice."),
    "placeholder": N_("Type your message…"),
    "send": N_("Send"),
    "language": N_("Language"),
    "messages": N_("Messages"),
    "you": N_("You"),
    "assistant": N_("Assistant"),
    "coordinator": N_("Coordinator"),
    "reconnecting": N_("Reconnecting…"),
    "not_sent": N_("Not sent. Check your connection and press Send again."),
    "late": N_("Answer to an earlier message"),
    "new_chat": N_("New conversation"),
}


def labels(language: str) -> dict[str, str]:
    """The page's labels in ``language`` (English where a translation is missing)."""
    return {key: t(language, msgid) for key, msgid in LABELS.items()}


def all_labels(languages: list[str]) -> dict[str, dict[str, str]]:
    """Labels of every configured language, for switching the page without a reload."""
    return {language: labels(language) for language in languages}
