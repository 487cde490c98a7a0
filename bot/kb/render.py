"""An entry's answer in one language: amounts formatted by babel, and a short source footer.

Arabic: babel puts RIGHT-TO-LEFT / ARABIC LETTER MARKs into Arabic currency and medium dates
(``\u200f486.00\xa0CN¥``, ``26\u200f/11\u200f/2026``). Copied between apps or shown by clients that
drop them they end up as stray invisible characters, so we strip every bidi control from what we
insert and use the long Arabic date (``26 نوفمبر 2026``), which reads correctly without marks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency

from bot.i18n import babel_locale, format_rmb, strip_bidi, t
from bot.kb.schema import Amount, KnowledgeEntry

# Rasa's REST output channel splits a text at every blank line ("\n\n") into separate messages, which
# would strip the kb_id/source markers from all but the last part. Paragraphs are separated by a line
# holding one space instead: it looks the same in every client and stays one message.
PARAGRAPH_BREAK = "\n \n"
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
def format_amount(amount: Amount, language: str) -> str:
    """An amount in the patient's locale (RMB through bot.i18n.format_rmb), without bidi marks."""
    if amount.currency == "CNY":
        return format_rmb(amount.value, language)
    return strip_bidi(format_currency(amount.value, amount.currency, locale=babel_locale(language)))


def format_reviewed(day: date, language: str) -> str:
    """The review date in the patient's locale (long form for Arabic: no marks needed)."""
    length = "long" if language == "ar" else "medium"
    return strip_bidi(format_date(day, format=length, locale=babel_locale(language)))


def answer_text(entry: KnowledgeEntry, language: str) -> str:
    """The answer body with ``{amount}`` placeholders filled; English when the language is missing."""
    text = entry.answer.get(language) or entry.answer.get("en") or next(iter(entry.answer.values()))
    if not entry.amounts:
        return text
    values = {name: format_amount(amount, language) for name, amount in entry.amounts.items()}
    return text.format(**values)


def render_footer(entries: Sequence[KnowledgeEntry], language: str) -> str:
    """``Source: <seed file>, reviewed <date>`` for each distinct source of the entries."""
    lines: list[str] = []
    for entry in entries:
        line = t(language, "Source: {seed}, reviewed {date}", seed=entry.source.seed,
                 date=format_reviewed(entry.reviewed, language))
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def render_answer(entry: KnowledgeEntry, language: str) -> str:
    """One entry's answer followed by its footer."""
    return render_entries([entry], language)


def render_entries(entries: Sequence[KnowledgeEntry], language: str, heading: str | None = None) -> str:
    """Several entries composed into one reply (optionally under a heading), with one footer block."""
    parts = [heading] if heading else []
    parts.extend(answer_text(entry, language) for entry in entries)
    parts.append("— " + render_footer(entries, language).replace("\n", "\n— "))
    return PARAGRAPH_BREAK.join(keep_together(part) for part in parts)


def keep_together(text: str) -> str:
    """The text with its blank lines replaced by :data:`PARAGRAPH_BREAK` (one message, same look)."""
    return _BLANK_LINES.sub(PARAGRAPH_BREAK, text.strip())
