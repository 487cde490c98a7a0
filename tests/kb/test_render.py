"""Rendering: the answer in a language, amounts by babel per locale, the footer, and clean Arabic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.i18n import BIDI_CONTROLS, strip_bidi
from bot.kb.loader import load_knowledge
from bot.kb.render import answer_text, format_amount, render_answer, render_entries
from bot.kb.schema import Amount, KnowledgeEntry

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
LANGS = ("en", "zh", "ru", "ar", "ko", "ja")


@pytest.fixture
def entries() -> dict[str, KnowledgeEntry]:
    result = load_knowledge(FIXTURES, LANGS)
    assert result.problems == []
    return {e.id: e for e in result.entries}


def test_answer_in_each_language_with_its_footer(entries: dict[str, KnowledgeEntry]) -> None:
    text = render_answer(entries["visa-test-long-term"], "ru")
    assert text.startswith("Для лечения дольше 180 дней: виза S1.")
    assert "Источник: 002_0d4801e7e7da959f.txt, проверено 26 нояб. 2026" in text
    english = render_answer(entries["visa-test-long-term"], "en")
    assert english.endswith("— Source: 002_0d4801e7e7da959f.txt, reviewed Nov 26, 2026")
    chinese = render_answer(entries["visa-test-long-term"], "zh")
    assert "来源：002_0d4801e7e7da959f.txt，审核日期：2026年11月26日" in chinese


@pytest.mark.parametrize(
    ("language", "amount"),
    [("en", "CN¥486"), ("zh", "486元"), ("ru", "486\xa0CN¥"), ("ar", "486\xa0CN¥"), ("ja", "486元"), ("ko", "CN¥486")],
)
def test_amount_placeholders_are_formatted_for_the_locale(
    entries: dict[str, KnowledgeEntry], language: str, amount: str
) -> None:
    assert amount in answer_text(entries["costs-test-mri"], language)
    assert "{mri_rmb}" not in answer_text(entries["costs-test-mri"], language)


def test_arabic_output_has_no_bidi_control_marks(entries: dict[str, KnowledgeEntry]) -> None:
    # babel itself puts an RLM before Arabic currency amounts and between the parts of a medium date;
    # bot.i18n's formatters never pass them on.
    from babel.dates import format_date
    from babel.numbers import format_currency

    from bot.i18n import format_day, format_rmb

    assert BIDI_CONTROLS.search(format_currency(486, "CNY", locale="ar"))
    assert BIDI_CONTROLS.search(format_date(date(2026, 11, 26), format="medium", locale="ar"))
    assert not BIDI_CONTROLS.search(format_rmb(486, "ar") + format_day(date(2026, 11, 26), "ar"))
    for entry in entries.values():
        text = render_answer(entry, "ar")
        assert not BIDI_CONTROLS.search(text), repr(text)
    assert "تمت المراجعة في 26 نوفمبر 2026" in render_answer(entries["visa-test-long-term"], "ar")


def test_other_currencies_and_strip_bidi() -> None:
    assert format_amount(Amount(value=Decimal(30000), currency="USD"), "en") == "$30,000.00"
    assert strip_bidi("\u200f486\u061c\u2066x\u2069") == "486x"


def test_several_entries_share_one_footer_block(entries: dict[str, KnowledgeEntry]) -> None:
    text = render_entries([entries["visa-test-long-term"], entries["costs-test-mri"]], "en", heading="Heading:")
    assert text.startswith("Heading:\n \nFor treatment longer than 180 days")
    # Rasa's REST channel would split the reply at a blank line.
    assert "\n\n" not in text
    assert text.count("Source:") == 2
    assert text.index("An MRI scan") < text.index("Source:")


def test_blank_lines_inside_an_answer_are_kept_in_one_message() -> None:
    from bot.kb.render import keep_together

    assert keep_together("a\n\nb\n  \n\nc\n") == "a\n \nb\n \nc"
