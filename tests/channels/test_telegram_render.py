"""Splitting long texts, callback data within 64 bytes, and the command table."""

from __future__ import annotations

from bot.channels.telegram_commands import BY_NAME, COMMANDS, HELP, command_for, menu
from bot.channels.telegram_render import (
    MAX_CALLBACK_BYTES,
    callback_data,
    decode_callback,
    inline_keyboard,
    long_payloads,
    payload_key,
    split_text,
    utf16_units,
)
from bot.core.messages import Button


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello") == ["hello"]


def test_split_prefers_paragraph_boundaries() -> None:
    paragraphs = ["a" * 40, "b" * 40, "c" * 40]
    chunks = split_text("\n\n".join(paragraphs), limit=90)
    assert chunks == ["a" * 40 + "\n\n" + "b" * 40, "c" * 40]


def test_split_falls_back_to_lines_then_hard_cuts() -> None:
    text = "x" * 30 + "\n" + "y" * 30 + "\n" + "z" * 250
    chunks = split_text(text, limit=100)
    assert chunks[0] == "x" * 30 + "\n" + "y" * 30
    assert "".join(chunks[1:]) == "z" * 250
    assert all(utf16_units(c) <= 100 for c in chunks)


def test_hard_split_counts_emoji_as_two_units_and_never_cuts_them() -> None:
    text = "😀" * 5000  # 10 000 UTF-16 units, no spaces or lines
    chunks = split_text(text)
    assert "".join(chunks) == text
    assert all(utf16_units(c) <= 4096 for c in chunks)
    assert [utf16_units(c) for c in chunks] == [4096, 4096, 1808]


def test_callback_data_fits_64_bytes_and_round_trips() -> None:
    short = "/ask_visa"
    long = '/inform{"city": "' + "北京" * 40 + '"}'
    assert decode_callback(callback_data(short)).payload == short  # type: ignore[union-attr]
    encoded = callback_data(long)
    assert len(encoded.encode()) <= MAX_CALLBACK_BYTES
    assert decode_callback(encoded).key == payload_key(long)  # type: ignore[union-attr]
    assert payload_key(long) == payload_key(long)  # stable: one stored row per payload
    assert long_payloads([Button("a", short), Button("b", long)]) == [long]
    assert decode_callback("something else") is None
    assert decode_callback(None) is None


def test_inline_keyboard_has_one_button_per_row() -> None:
    keyboard = inline_keyboard([Button("Visa", "/ask_visa"), Button("Payment", "/ask_payment")])
    assert keyboard is not None
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [["Visa"], ["Payment"]]
    assert inline_keyboard([]) is None


def test_command_table_maps_commands_to_payloads() -> None:
    assert {c.name: c.payload for c in COMMANDS} == {
        "start": "/greet", "help": "/greet", "language": "/change_language",
        "status": "/ask_status", "human": "/request_human",
    }
    assert command_for("/start") is BY_NAME["start"]
    assert command_for("/Human@medconcierge_bot please") is BY_NAME["human"]
    assert command_for("/unknown") is HELP


def test_menu_is_localized() -> None:
    english = dict(menu("en"))
    russian = dict(menu("ru"))
    assert set(english) == set(russian) == {"start", "help", "language", "status", "human"}
    assert english["human"] != russian["human"]
