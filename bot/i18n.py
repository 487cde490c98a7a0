"""Interface strings through gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.mo``).

Mark a string with ``t(language, "English text", name=value)``; ``pybabel extract`` finds it
(keyword ``t:2``); a constant translated later is marked ``N_("…")``. Numbers, dates and RMB
amounts go through babel for the patient's locale.
"""

from __future__ import annotations

import gettext
import re
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


# Chinese and Japanese write yuan amounts as "486元"; babel's ja pattern would give "元486.00".
YUAN_SUFFIX_LANGUAGES = frozenset({"zh", "ja"})
# Babel puts invisible direction marks (LRM, RLM, ALM, embeddings, isolates) into Arabic numbers and
# dates; clients that drop or mishandle them show stray characters, so no formatted value carries them.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    """Remove bidi control characters (the surrounding layout sets the direction)."""
    return BIDI_CONTROLS.sub("", text)


def format_rmb(amount: Decimal | int | float, language: str) -> str:
    """An RMB amount in the patient's locale: ``CN¥486``, ``486 CN¥``, ``486元``; cents only when there are any."""
    locale = babel_locale(language)
    whole = Decimal(str(amount)) == Decimal(str(amount)).to_integral_value()
    if language in YUAN_SUFFIX_LANGUAGES:
        return format_decimal(amount, format="#,##0" if whole else "#,##0.00", locale=locale) + "元"
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    if whole:
        pattern = pattern.replace(".00", "")
    return strip_bidi(format_currency(amount, "CNY", format=pattern, locale=locale, currency_digits=False))


def format_number(number: Decimal | int | float, language: str) -> str:
    return strip_bidi(format_decimal(number, locale=babel_locale(language)))


def format_day(day: date | datetime, language: str) -> str:
    """A date in the patient's locale, medium length (``Nov 26, 2026``, ``2026年11月26日``)."""
    return strip_bidi(format_date(day, format="medium", locale=babel_locale(language)))


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
