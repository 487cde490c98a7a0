"""Turning replies into Telegram messages: length-safe chunks and inline keyboards.

Replies are sent as plain text (no ``parse_mode``), so ``*``, ``_``, ``<``, ``&`` and friends in
knowledge answers or coordinator replies reach the patient verbatim and can never break a send.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.messages import Button

# Telegram's limits: characters per text message (counted in UTF-16 code units, to be safe with
# emoji outside the BMP) and bytes of callback data per button.
MAX_TEXT_UNITS = 4096
MAX_CALLBACK_BYTES = 64
# callback_data is "p:<payload>" when the payload fits, "k:<key>" when it is stored server-side.
INLINE_PREFIX = "p:"
KEY_PREFIX = "k:"


def utf16_units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` units: on paragraphs, then lines, then hard."""
    if utf16_units(text) <= limit:
        return [text]
    chunks: list[str] = []
    for piece in _pack(text.split("\n\n"), "\n\n", limit):
        if utf16_units(piece) <= limit:
            chunks.append(piece)
            continue
        for line_piece in _pack(piece.split("\n"), "\n", limit):
            chunks.extend([line_piece] if utf16_units(line_piece) <= limit else _hard_split(line_piece, limit))
    return [chunk for chunk in chunks if chunk.strip()]


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    """Greedily join consecutive ``parts`` with ``separator`` while the result fits ``limit``."""
    packed: list[str] = []
    current: str | None = None
    for part in parts:
        candidate = part if current is None else current + separator + part
        if utf16_units(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            packed.append(current)
        current = part
    if current is not None:
        packed.append(current)
    return packed


def _hard_split(text: str, limit: int) -> list[str]:
    """Cut a single over-long line at code-point boundaries (never inside a surrogate pair)."""
    chunks: list[str] = []
    current: list[str] = []
    units = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > limit:
            chunks.append("".join(current))
            current, units = [], 0
        current.append(char)
        units += width
    if current:
        chunks.append("".join(current))
    return chunks


def payload_key(payload: str) -> str:
    """A short stable key for a long payload (22 URL-safe characters of its SHA-256)."""
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:22]


def fits_inline(payload: str) -> bool:
    return len((INLINE_PREFIX + payload).encode("utf-8")) <= MAX_CALLBACK_BYTES


def callback_data(payload: str) -> str:
    """The ``callback_data`` of a button; long payloads become a key (store them with ``payload_key``)."""
    if fits_inline(payload):
        return INLINE_PREFIX + payload
    return KEY_PREFIX + payload_key(payload)


@dataclass(frozen=True)
class DecodedCallback:
    """What a pressed button carried: the payload itself, or the key of a stored payload."""

    payload: str | None = None
    key: str | None = None


def decode_callback(data: str | None) -> DecodedCallback | None:
    """Read callback data this channel produced; None for anything else."""
    if not data:
        return None
    if data.startswith(INLINE_PREFIX) and len(data) > len(INLINE_PREFIX):
        return DecodedCallback(payload=data[len(INLINE_PREFIX):])
    if data.startswith(KEY_PREFIX) and len(data) > len(KEY_PREFIX):
        return DecodedCallback(key=data[len(KEY_PREFIX):])
    return None


def long_payloads(buttons: list[Button]) -> list[str]:
    """Payloads that must be stored server-side before the keyboard is sent."""
    return [button.payload for button in buttons if not fits_inline(button.payload)]


def inline_keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row (titles in six languages vary too much in width for a grid)."""
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=b.title or "…", callback_data=callback_data(b.payload))] for b in buttons]
    return InlineKeyboardMarkup(rows)
