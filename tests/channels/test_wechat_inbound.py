"""Classification of inbound WeChat messages (bot/channels/wechat_inbound.py): pure, no I/O."""

from __future__ import annotations

import pytest

from bot.channels.wechat_inbound import (
    CONSENT_NOTICE,
    LINK_THANKS,
    LOCATION_THANKS,
    MAX_TEXT_CHARS,
    MENU_GONE,
    PLEASE_TYPE,
    UNSUPPORTED,
    WELCOME,
    ChannelReply,
    CoreTurn,
    classify,
)

MENU = frozenset({"MENU_VISA"})


def fields(msg_type: str, **extra: str) -> dict[str, str]:
    return {"ToUserName": "gh_account", "FromUserName": "openid-1", "CreateTime": "1700000000",
            "MsgType": msg_type, **extra}


def test_text_becomes_a_turn_keyed_by_msgid_and_cut_to_the_limit() -> None:
    turn = classify(fields("text", Content="x" * (MAX_TEXT_CHARS + 10), MsgId="42"), "en", MENU)
    assert turn == CoreTurn("42", "openid-1", "x" * MAX_TEXT_CHARS)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (fields("text", Content="   ", MsgId="1"), ChannelReply("openid-1", (UNSUPPORTED,))),
        (fields("voice", MediaId="m", Format="amr", MsgId="2"), ChannelReply("openid-1", (PLEASE_TYPE,))),
        (fields("location", Location_X="39.9", Location_Y="116.4", Scale="15", Label="Beijing", MsgId="3"),
         ChannelReply("openid-1", (LOCATION_THANKS,))),
        (fields("link", Title="", Description="", Url="https://example.org", MsgId="4"),
         ChannelReply("openid-1", (LINK_THANKS,))),
        (fields("shortvideo", MediaId="m", ThumbMediaId="t", MsgId="5"), ChannelReply("openid-1", (UNSUPPORTED,))),
        (fields("event", Event="subscribe"), ChannelReply("openid-1", (WELCOME, CONSENT_NOTICE))),
        (fields("event", Event="subscribe", EventKey="qrscene_agency7"),
         ChannelReply("openid-1", (WELCOME, CONSENT_NOTICE))),
        (fields("event", Event="CLICK", EventKey="MENU_REMOVED"), ChannelReply("openid-1", (MENU_GONE,))),
        (fields("event", Event="unsubscribe"), None),
    ],
)
def test_what_the_channel_answers_itself(message: dict[str, str], expected: ChannelReply | None) -> None:
    assert classify(message, "en", MENU) == expected


def test_voice_recognition_and_link_title_are_the_patients_words() -> None:
    voice = classify(fields("voice", MediaId="m", Format="amr", Recognition="我需要签证", MsgId="6"), "en", MENU)
    link = classify(fields("link", Title="Hospital price list", Description="", Url="https://x", MsgId="7"), "en", MENU)
    assert voice == CoreTurn("6", "openid-1", "我需要签证")
    assert link == CoreTurn("7", "openid-1", "Hospital price list")


def test_image_and_menu_click_carry_the_default_language_and_events_are_keyed_by_sender_and_time() -> None:
    image = classify(fields("image", PicUrl="http://x", MediaId="media-9", MsgId="8"), "zh", MENU)
    click = classify(fields("event", Event="CLICK", EventKey="MENU_VISA"), "zh", MENU)
    assert image == CoreTurn("8", "openid-1", "", media_id="media-9", language_hint="zh")
    assert click == CoreTurn("openid-1:1700000000:click", "openid-1", "MENU_VISA", language_hint="zh")
