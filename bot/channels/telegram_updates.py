"""Reading Telegram updates: what each update means for the conversation (no I/O here).

Decisions (the bot must never crash on an update it does not expect):

- Only private chats are answered. Group, supergroup and channel messages are ignored (200, no
  reply): patients' health matters do not belong in shared chats.
- Edited messages and channel posts are ignored: the original message was already answered, and
  answering an edit again would confuse the conversation.
- Text and commands become turns; commands map to payloads through ``telegram_commands.COMMANDS``
  (an unknown command gets ``/help``).
- Photos and documents of an allowed type and size become turns with a file to download; the
  conversation service puts them on the patient's open case. Other files (video, audio,
  animations…) get a clear notice; voice messages, video notes and stickers get "please type".
- A pressed inline button becomes a turn with the button's payload (answered callback query).
- ``my_chat_member`` in a private chat tells whether the patient blocked or restarted the bot.
- Everything else (service messages, polls, payments, inline queries…) is ignored.

The message id sent to the core is ``m<chat>:<message_id>`` (``q<callback id>`` for buttons):
Telegram redelivers the same update with the same ids, and the core answers a message id once.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from telegram import CallbackQuery, Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.channels.telegram_commands import CommandSpec, command_for
from bot.channels.telegram_render import DecodedCallback, decode_callback
from bot.handoff.attachments import ALLOWED_TYPES, TOO_LARGE, WRONG_TYPE
from bot.i18n import N_

PLEASE_TYPE = N_("Sorry, I cannot listen to voice messages or read stickers. Please type your message.")
UNSUPPORTED = N_(
    "Sorry, I can only read text messages, photos and documents (PDF files, images, reports). "
    "Please type your question or send your file as a photo or document."
)
EXPIRED_BUTTON = N_("This button is no longer available. Please type your question or send /start.")


@dataclass(frozen=True)
class FileRef:
    """A file the patient sent, to download through the Bot API."""

    file_id: str
    filename: str
    content_type: str
    size: int | None


@dataclass(frozen=True)
class Turn:
    """A message for the conversation service."""

    chat_id: int
    message_key: str
    text: str
    language_hint: str | None
    command: CommandSpec | None = None
    files: tuple[FileRef, ...] = ()
    callback_query_id: str | None = None
    callback: DecodedCallback | None = None


@dataclass(frozen=True)
class Notice:
    """A message the channel answers itself with a localized notice (``msgid`` with ``params``)."""

    chat_id: int
    message_key: str
    msgid: str
    language_hint: str | None
    params: tuple[tuple[str, object], ...] = ()
    callback_query_id: str | None = None


@dataclass(frozen=True)
class Membership:
    """The patient blocked (``blocked=True``) or restarted the bot in a private chat."""

    chat_id: int
    blocked: bool


@dataclass(frozen=True)
class Ignored:
    """An update the bot deliberately does not answer; ``reason`` is for logs and tests."""

    reason: str


ParsedUpdate = Turn | Notice | Membership | Ignored


def parse_update(update: Update, max_attachment_bytes: int) -> ParsedUpdate:
    """Decide what ``update`` means; never raises for well-formed but unexpected updates."""
    if update.callback_query is not None:
        return _callback(update.callback_query)
    if update.my_chat_member is not None:
        member = update.my_chat_member
        if member.chat.type != ChatType.PRIVATE:
            return Ignored("membership outside a private chat")
        status = member.new_chat_member.status
        return Membership(member.chat.id, blocked=status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT))
    if update.message is not None:
        return _message(update.message, max_attachment_bytes)
    if update.edited_message is not None:
        return Ignored("edited message")
    if update.channel_post is not None or update.edited_channel_post is not None:
        return Ignored("channel post")
    return Ignored("unsupported update type")


def _callback(query: CallbackQuery) -> ParsedUpdate:
    message = query.message
    if message is not None and message.chat.type != ChatType.PRIVATE:
        return Ignored("button in a group chat")
    chat_id = message.chat.id if message is not None else query.from_user.id
    key = f"q{query.id}"
    hint = query.from_user.language_code
    decoded = decode_callback(query.data)
    if decoded is None:
        return Notice(chat_id, key, EXPIRED_BUTTON, hint, callback_query_id=query.id)
    return Turn(chat_id, key, decoded.payload or "", hint, callback_query_id=query.id, callback=decoded)


def _message(message: Message, max_bytes: int) -> ParsedUpdate:
    if message.chat.type != ChatType.PRIVATE:
        return Ignored("group or channel chat")
    if message.from_user is None or message.from_user.is_bot:
        return Ignored("no human sender")
    chat_id = message.chat.id
    key = f"m{chat_id}:{message.message_id}"
    hint = message.from_user.language_code
    if message.text is not None:
        if _is_command(message):
            command = command_for(message.text)
            return Turn(chat_id, key, command.payload, hint, command=command)
        return Turn(chat_id, key, message.text, hint)
    if message.voice is not None or message.video_note is not None or message.sticker is not None:
        return Notice(chat_id, key, PLEASE_TYPE, hint)
    caption = message.caption or ""
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        ref = FileRef(largest.file_id, f"photo-{message.message_id}.jpg", "image/jpeg", largest.file_size)
        return _file_turn(chat_id, key, caption, hint, ref, max_bytes)
    if message.document is not None and message.animation is None:
        document = message.document
        filename = document.file_name or f"document-{message.message_id}"
        content_type = (document.mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream").lower()
        ref = FileRef(document.file_id, filename, content_type, document.file_size)
        return _file_turn(chat_id, key, caption, hint, ref, max_bytes)
    if any(
        part is not None
        for part in (
            message.animation, message.audio, message.video, message.location, message.contact,
            message.venue, message.poll, message.dice, message.game, message.story,
        )
    ):
        return Notice(chat_id, key, UNSUPPORTED, hint)
    return Ignored("service message")


def _is_command(message: Message) -> bool:
    return any(
        entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0 for entity in message.entities or ()
    )


def _file_turn(
    chat_id: int, key: str, caption: str, hint: str | None, ref: FileRef, max_bytes: int
) -> ParsedUpdate:
    """A file turn, or a notice when the type or the announced size is refused before downloading."""
    if ref.content_type not in ALLOWED_TYPES:
        return Notice(chat_id, key, WRONG_TYPE, hint)
    if ref.size is not None and ref.size > max_bytes:
        return Notice(chat_id, key, TOO_LARGE, hint, (("limit_mb", max_bytes // (1024 * 1024)),))
    return Turn(chat_id, key, caption, hint, files=(ref,))
