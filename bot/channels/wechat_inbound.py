"""What an inbound WeChat message asks of the channel: a core turn, a reply of the channel's own, or nothing.

Pure: no I/O. Text, voice (WeChat's ``Recognition`` text), links (their title) and custom-menu clicks
become core turns; images become turns carrying the media id; subscribing gets the welcome and
consent notice; anything else gets a polite line asking the patient to type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage

from bot.i18n import N_

MAX_TEXT_CHARS = 4096

WELCOME = N_(
    "Welcome to MedConcierge! I can help with visas, appointments, payment and insurance for medical treatment "
    "in China. I do not give medical advice. Choose a topic in the menu below or write your question."
)
CONSENT_NOTICE = N_(
    "Privacy: we keep this conversation to answer you and so that a coordinator can help you. We will ask for "
    "your consent before we store any information about your health."
)
PLEASE_TYPE = N_("Sorry, I could not understand this voice message. Please type your question.")
LOCATION_THANKS = N_("Thank you for sharing your location. Please type your question, for example the city where "
                     "you would like to be treated.")
LINK_THANKS = N_("Thank you for the link. Please tell me in a few words what you would like to know.")
UNSUPPORTED = N_("Sorry, I can only read text and images here. Please type your question.")
MENU_GONE = N_("Sorry, this menu item is no longer available. Please type your question.")


@dataclass(frozen=True)
class CoreTurn:
    """A message for the conversation core."""

    ext_id: str
    openid: str
    text: str
    media_id: str | None = None
    language_hint: str | None = None


@dataclass(frozen=True)
class ChannelReply:
    """A message the channel answers itself (events, unsupported types); ``msgids`` are translated."""

    openid: str
    msgids: tuple[str, ...]


def parse_message(fields: dict[str, str]) -> Any:
    """The wechatpy message or event object of a parsed XML document."""
    message_type = fields.get("MsgType", "").lower()
    if message_type == "event":
        event = fields.get("Event", "").lower()
        if event == "subscribe" and fields.get("EventKey", "").startswith("qrscene_"):
            event = "subscribe_scan"
        return EVENT_TYPES.get(event, UnknownMessage)(fields)
    return MESSAGE_TYPES.get(message_type, UnknownMessage)(fields)


def classify(
    fields: dict[str, str], default_language: str, menu_keys: frozenset[str]
) -> CoreTurn | ChannelReply | None:
    """What to do with a message: a core turn, a channel reply, or nothing (``success``).

    Images and menu clicks carry ``default_language`` as the language hint (they have no text).
    """
    message = parse_message(fields)
    openid = str(message.source or "")
    kind = message.type
    # WeChat's advice for deduplication: MsgId, or FromUserName + CreateTime where there is none.
    msg_id = str(message.id) if message.id else f"{openid}:{fields.get('CreateTime', '')}:{kind}"
    if kind == "text":
        text = str(message.content or "")[:MAX_TEXT_CHARS]
        return CoreTurn(msg_id, openid, text) if text.strip() else ChannelReply(openid, (UNSUPPORTED,))
    if kind == "image":
        return CoreTurn(msg_id, openid, "", media_id=str(message.media_id or ""),
                        language_hint=default_language)
    if kind == "voice":
        recognition = str(message.recognition or "").strip()
        if recognition:
            return CoreTurn(msg_id, openid, recognition[:MAX_TEXT_CHARS])
        return ChannelReply(openid, (PLEASE_TYPE,))
    if kind == "location":
        return ChannelReply(openid, (LOCATION_THANKS,))
    if kind == "link":
        title = str(message.title or "").strip()
        return CoreTurn(msg_id, openid, title[:MAX_TEXT_CHARS]) if title else ChannelReply(
            openid, (LINK_THANKS,))
    if kind == "event":
        return _classify_event(message, openid, fields, default_language, menu_keys)
    return ChannelReply(openid, (UNSUPPORTED,))


def _classify_event(
    event: Any, openid: str, fields: dict[str, str], default_language: str, menu_keys: frozenset[str]
) -> CoreTurn | ChannelReply | None:
    name = str(event.event)
    if name in ("subscribe", "subscribe_scan"):
        return ChannelReply(openid, (WELCOME, CONSENT_NOTICE))
    if name == "click":
        key = str(fields.get("EventKey", ""))
        if key not in menu_keys:
            return ChannelReply(openid, (MENU_GONE,))
        # Events have no MsgId: WeChat's advice is FromUserName + CreateTime.
        ext_id = f"{openid}:{fields.get('CreateTime', '')}:click"
        return CoreTurn(ext_id, openid, key, language_hint=default_language)
    return None  # unsubscribe, view, location reports, job notifications: nothing to answer
