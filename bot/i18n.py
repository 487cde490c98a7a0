"""Interface strings through gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.mo``).

Mark a string with ``t(language, "English text", name=value)``; ``pybabel extract`` finds it
(keyword ``t:2``); a constant translated later is marked ``N_("…")``. Numbers, dates and RMB
amounts go through babel for the patient's locale.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
# Babel locale per supported language; Chinese is shown in simplified script.
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN", "ru": "ru", "ar": "ar", "ko": "ko", "ja": "ja"}
RTL_LANGUAGES = frozenset({"ar"})


@lru_cache(maxsize=16)
def translations(language: str, locales_dir: str = str(LOCALES_DIR)) -> gettext.NullTranslations:
    """Compiled catalog of a language; falls back to the English source strings."""
    return gettext.translation(DOMAIN, localedir=locales_dir, languages=[language], fallback=True)


def N_(message: str) -> str:
    """Mark a msgid for extraction where it is translated later (constants, button titles)."""
    return message


def t(language: str, message: str, **params: object) -> str:
    """Translate ``message`` into ``language`` and fill its ``{name}`` placeholders."""
    translated = translations(language).gettext(message)
    return translated.format(**params) if params else translated


def babel_locale(language: str) -> Locale:
    return Locale.parse(BABEL_LOCALES.get(language, "en"))


def format_rmb(amount: Decimal | int | float, language: str) -> str:
    """An RMB amount in the patient's locale, e.g. ``CN¥486.00`` or ``486,00 CN¥``."""
    return format_currency(amount, "CNY", locale=babel_locale(language))


def format_number(number: Decimal | int | float, language: str) -> str:
    return format_decimal(number, locale=babel_locale(language))


def format_day(day: date | datetime, language: str) -> str:
    """A date in the patient's locale, medium length (``Nov 26, 2026``, ``2026年11月26日``)."""
    return format_date(day, format="medium", locale=babel_locale(language))


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
