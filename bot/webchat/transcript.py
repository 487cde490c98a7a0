"""What a web chat visitor may read: the messages of their own REST conversation, nothing else.

The browser's sender id (a random uuid kept in localStorage) is the only credential of an anonymous
web chat, so every read starts from ``(channel "rest", external id = sender)`` and never accepts a
conversation or message id from the client.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.rest import CHANNEL
from bot.storage.models import Author, Conversation, Message, OutboxItem, Patient
from bot.webchat.texts import NATIVE_NAMES

HISTORY_LIMIT = 200
# Markers of ``custom`` the page renders; anything else stays on the server.
VISIBLE_CUSTOM = ("kb_id", "source", "emergency", "handoff", "case_number", "intent", "error", "fallback")
SHOWN_AUTHORS = (Author.PATIENT, Author.BOT, Author.COORDINATOR)
# The picker's language payload (see bot.webchat.web.LANGUAGE_PAYLOAD).
LANGUAGE_CHOICE = re.compile(r'/choose_language\{"ui_language":"([a-z]{2})"\}')


async def conversation_of(session: AsyncSession, sender: str) -> int | None:
    """The conversation id of the REST patient ``sender``, or None when there is none yet."""
    query = (
        select(Conversation.id)
        .join(Patient, Patient.id == Conversation.patient_id)
        .where(Patient.channel == CHANNEL, Patient.external_id == sender)
    )
    return (await session.execute(query)).scalar_one_or_none()


def serialize(message: Message, late: bool = False) -> dict[str, Any]:
    """The JSON shape the page and the terminal chat render (REST reply fields plus id and author)."""
    custom = {key: value for key, value in (message.custom or {}).items() if key in VISIBLE_CUSTOM}
    body: dict[str, Any] = {
        "id": message.id,
        "author": message.author.value,
        "text": message.text,
        "buttons": [{"title": b["title"], "payload": b["payload"]} for b in message.buttons or []],
        "custom": custom,
    }
    if late:
        body["late"] = True
    return body


async def history(session: AsyncSession, conversation_id: int, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The latest ``limit`` messages of the conversation, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author.in_(SHOWN_AUTHORS))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list(reversed(list((await session.execute(query)).scalars())))
    shown: list[dict[str, Any]] = []
    titles: dict[str, str] = {}
    for message in rows:
        body = serialize(message)
        if message.author is Author.PATIENT:
            body["text"] = shown_text(message.text or "", titles)
        elif message.buttons:
            titles = {b["payload"]: b["title"] for b in message.buttons}
        shown.append(body)
    return shown


def shown_text(text: str, titles: dict[str, str]) -> str:
    """What the patient saw as their message: a pressed button's title rather than its payload."""
    if text in titles:
        return titles[text]
    match = LANGUAGE_CHOICE.fullmatch(text)
    if match and match.group(1) in NATIVE_NAMES:
        return NATIVE_NAMES[match.group(1)]
    return text


def _pushed() -> ColumnElement[bool]:
    """Outbound messages that nobody's request is waiting for: coordinator replies and queued late answers.

    A reply produced inside a REST request goes back in that request's response; only messages queued
    on the outbox (bot.core.replies.send_to_patient, answers retried after an engine outage) are pushed.
    """
    queued = select(OutboxItem.id).where(OutboxItem.message_id == Message.id).exists()
    return (Message.author == Author.COORDINATOR) | ((Message.author == Author.BOT) & queued)


async def pushed_message(session: AsyncSession, conversation_id: int, message_id: int) -> dict[str, Any] | None:
    """The message ``message_id`` of this conversation when it is to be pushed to the page, else None."""
    query = select(Message).where(Message.id == message_id, Message.conversation_id == conversation_id, _pushed())
    message = (await session.execute(query)).scalar_one_or_none()
    return None if message is None else serialize(message, late=message.author is Author.BOT)


async def pushed_after(
    session: AsyncSession, conversation_id: int, after: int, limit: int = 50
) -> list[dict[str, Any]]:
    """Pushed messages after id ``after`` (what a reconnecting stream missed), oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after, _pushed())
        .order_by(Message.id)
        .limit(limit)
    )
    return [serialize(m, late=m.author is Author.BOT) for m in (await session.execute(query)).scalars()]
