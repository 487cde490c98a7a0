"""Interface strings and locale formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.i18n import BIDI_CONTROLS, format_day, format_rmb, is_rtl, t


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "CN¥30,000"), ("zh", "30,000元"), ("ja", "30,000元"), ("ru", "30\xa0000\xa0CN¥"), ("ko", "CN¥30,000"),
    ("ar", "30,000\xa0CN¥"),
])
def test_rmb_amounts_follow_the_locale_and_show_cents_only_when_there_are_some(language: str, expected: str) -> None:
    assert format_rmb(30000, language) == expected
    assert format_rmb(Decimal("12.5"), language).replace("\xa0", " ").count("12") == 1
    assert "50" in format_rmb(Decimal("12.5"), language)


def test_no_formatted_value_carries_direction_marks() -> None:
    assert not BIDI_CONTROLS.search(format_rmb(486, "ar") + format_day(date(2026, 11, 26), "ar"))
    assert is_rtl("ar") and not is_rtl("en")


def test_catalogs_translate_and_fill_placeholders() -> None:
    assert t("zh", "Goodbye! Write again any time.") == "再见！有问题随时再来咨询。"
    assert t("ru", "Welcome back, {name}! How can I help you today?", name="Анна").startswith("С возвращением, Анна")
    assert t("en", "Goodbye! Write again any time.") == "Goodbye! Write again any time."
