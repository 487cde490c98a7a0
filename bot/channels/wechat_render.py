"""Turning replies into WeChat text: numbered options instead of buttons, splitting, passive XML.

Text limit: WeChat documents no limit for customer-service text, but its API answers
``45002 content size out of limit`` above 2048 UTF-8 bytes (passive replies: 2047), as measured
and reported by the developer community. We keep every message at or under
``MAX_MESSAGE_BYTES = 2000`` UTF-8 bytes (about 660 Chinese characters or 2000 Latin letters), and
split longer answers at paragraph, line, sentence or word boundaries.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable

from bot.core.messages import Button, OutboundMessage

MAX_MESSAGE_BYTES = 2000
MAX_OPTIONS = 20
# Preferred cut points, best first: paragraph, line, sentence end, clause, word.
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")


def render_message(message: OutboundMessage) -> str:
    """A reply as WeChat text: its text, then its buttons as ``1. Title`` lines (numbered from 1)."""
    parts = [message.text.strip()] if message.text and message.text.strip() else []
    options = message.buttons[:MAX_OPTIONS]
    if options:
        parts.append("\n".join(f"{number}. {button.title}" for number, button in enumerate(options, start=1)))
    return "\n".join(parts)


def render_turn(replies: Iterable[OutboundMessage]) -> str:
    """All replies of one turn as one text (a passive reply is a single message)."""
    return "\n\n".join(text for text in (render_message(reply) for reply in replies) if text)


def offered_options(replies: Iterable[OutboundMessage]) -> list[Button]:
    """The options a numeric answer refers to: those of the last reply that offered any."""
    options: list[Button] = []
    for reply in replies:
        if reply.buttons:
            options = reply.buttons[:MAX_OPTIONS]
    return options


def choose_option(text: str, options: list[dict[str, str]]) -> str | None:
    """The payload of option ``text`` ("2", "２", "2." or " 2 ") among ``options``; None otherwise."""
    normalized = unicodedata.normalize("NFKC", text).strip().rstrip(".)、")
    if not normalized.isdigit() or len(normalized) > 2:
        return None
    index = int(normalized) - 1
    if 0 <= index < len(options):
        return options[index].get("payload") or None
    return None


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, max_bytes: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes at the most natural boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if utf8_len(rest) <= max_bytes:
            pieces.append(rest)
            break
        window = _prefix_within(rest, max_bytes)
        cut = _best_cut(window)
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if piece:
            pieces.append(piece)
    return pieces


def _prefix_within(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits ``max_bytes`` (never splits a character)."""
    size = 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > max_bytes:
            return text[:index]
    return text


def _best_cut(window: str) -> int:
    """Where to cut ``window``: after the best boundary in its second half, else at its end."""
    floor = len(window) // 2
    for boundary in _BREAKS:
        position = window.rfind(boundary)
        if position >= floor:
            return position + len(boundary)
    return len(window)


def _cdata(text: str) -> str:
    # "]]>" would end the section early: split it across two CDATA sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def passive_text_xml(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """The XML of a passive text reply (the HTTP answer to WeChat's request)."""
    created = int(time.time()) if now is None else now
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )
