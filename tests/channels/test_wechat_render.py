"""Rendering replies for WeChat: numbered options, splitting under the byte limit, safe passive XML."""

from __future__ import annotations

from defusedxml.ElementTree import fromstring

from bot.channels.wechat_menu import MenuError, build_menu, menu_keys
from bot.channels.wechat_render import (
    MAX_MESSAGE_BYTES,
    choose_option,
    offered_options,
    passive_text_xml,
    render_message,
    render_turn,
    split_text,
)
from bot.core.messages import Button, OutboundMessage

OPTIONS = [{"title": "Visa", "payload": "/ask_visa"}, {"title": "Payment", "payload": "/ask_payment"}]


def test_buttons_are_numbered_after_the_text() -> None:
    message = OutboundMessage(text="Pick one:", buttons=[Button("Visa", "/ask_visa"), Button("Pay", "/ask_payment")])
    assert render_message(message) == "Pick one:\n1. Visa\n2. Pay"
    assert render_turn([OutboundMessage(text="Hi"), message]) == "Hi\n\nPick one:\n1. Visa\n2. Pay"
    assert offered_options([message, OutboundMessage(text="more")]) == message.buttons


def test_numeric_replies_map_to_payloads() -> None:
    assert choose_option("1", OPTIONS) == "/ask_visa"
    assert choose_option(" ２ ", OPTIONS) == "/ask_payment"
    assert choose_option("2.", OPTIONS) == "/ask_payment"
    assert choose_option("3", OPTIONS) is None
    assert choose_option("0", OPTIONS) is None
    assert choose_option("one", OPTIONS) is None


def test_split_respects_the_byte_limit_and_prefers_boundaries() -> None:
    chinese = "我们可以帮助您办理签证。" * 300
    pieces = split_text(chinese)
    assert len(pieces) > 1
    assert all(len(p.encode("utf-8")) <= MAX_MESSAGE_BYTES for p in pieces)
    assert all(p.endswith("。") for p in pieces)
    assert "".join(pieces) == chinese
    english = " ".join(["word"] * 1000)
    pieces = split_text(english, 100)
    assert all(len(p.encode()) <= 100 for p in pieces)
    assert " ".join(pieces) == english
    unbroken = "x" * 250
    assert split_text(unbroken, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("short") == ["short"]


def test_passive_xml_survives_cdata_terminators() -> None:
    xml = passive_text_xml("openid", "gh_account", "a ]]> b <c> & d", now=1700000000)
    root = fromstring(xml)
    assert root.findtext("Content") == "a ]]> b <c> & d"
    assert root.findtext("ToUserName") == "openid"
    assert root.findtext("MsgType") == "text"


def test_the_default_menu_shape_and_its_checks() -> None:
    items = [
        {"group": "Services 服务", "name": "Visa 签证", "key": "/ask_visa"},
        {"group": "Services 服务", "name": "Payment 付款", "key": "/ask_payment"},
        {"name": "Coordinator", "key": "/request_human"},
    ]
    menu = build_menu(items)
    assert [b["name"] for b in menu["button"]] == ["Services 服务", "Coordinator"]
    assert [s["key"] for s in menu["button"][0]["sub_button"]] == ["/ask_visa", "/ask_payment"]
    assert menu_keys(items) == {"/ask_visa", "/ask_payment", "/request_human"}
    for bad, field in (
        ([{"name": "A very long top-level name", "key": "/x"}], "wechat.menu[0].name"),
        ([{"name": "Visa", "key": "ask_visa"}], "wechat.menu[0].key"),
        ([{"name": f"n{i}", "key": f"/k{i}"} for i in range(4)], "top-level"),
        ([{"group": "G", "name": f"n{i}", "key": f"/k{i}"} for i in range(6)], "wechat.menu[5].group"),
    ):
        try:
            build_menu(bad)
        except MenuError as exc:
            assert field in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")


def test_the_configured_menu_is_valid() -> None:
    from bot.settings import Settings

    menu = build_menu(Settings().wechat.menu)
    names = [s["name"] for b in menu["button"] for s in b.get("sub_button", [b])]
    assert len(names) == 5
    assert {"/ask_visa", "/ask_appointment", "/ask_payment", "/ask_insurance", "/request_human"} == menu_keys(
        Settings().wechat.menu)
