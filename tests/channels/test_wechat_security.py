"""Requests that do not come from WeChat are refused with nothing stored: signatures, timestamps,
nonces, XML attacks, size limits, and the AES safe mode."""

from __future__ import annotations

import time

from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat_security import MAX_BODY_BYTES
from bot.storage.models import Message
from tests.channels.fake_wechat import APP_ID
from tests.channels.wechat_fixtures import WeChatApp, fake_wechat, slow_engine, wechat_app, wechat_overrides
from tests.channels.wechat_requests import (
    AES_KEY,
    TOKEN,
    encrypted_request,
    reply_content,
    signature,
    signed_query,
    text_xml,
)

__all__ = ["fake_wechat", "slow_engine", "wechat_app", "wechat_overrides"]


async def test_get_echoes_echostr_only_with_a_valid_signature(wechat_app: WeChatApp) -> None:
    query = {**signed_query(), "echostr": "echo-12345"}
    ok = await wechat_app.client.get("/webhooks/wechat", params=query)
    assert ok.status_code == 200
    assert ok.text == "echo-12345"
    forged = {**query, "signature": "0" * 40}
    assert (await wechat_app.client.get("/webhooks/wechat", params=forged)).status_code == 403
    stale = {**signed_query(timestamp=int(time.time()) - 3600), "echostr": "x"}
    assert (await wechat_app.client.get("/webhooks/wechat", params=stale)).status_code == 403


async def test_a_signed_text_message_gets_a_passive_reply(wechat_app: WeChatApp) -> None:
    response = await wechat_app.say("openid-plain", "hello there", 1001)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert reply_content(response.text) == "echo: hello there"
    assert "<ToUserName><![CDATA[openid-plain]]></ToUserName>" in response.text
    assert await wechat_app.count(Message) == 2
    assert wechat_app.fake.sent_texts() == []  # answered in the window: no customer-service message


async def test_bad_signature_is_403_and_nothing_is_stored(wechat_app: WeChatApp) -> None:
    query = signed_query(token="not-the-token")
    response = await wechat_app.post(text_xml("openid-forger", "hello", 2001), query)
    assert response.status_code == 403
    missing = {k: v for k, v in signed_query().items() if k != "signature"}
    assert (await wechat_app.post(text_xml("openid-forger", "hello", 2002), missing)).status_code == 403
    assert await wechat_app.nothing_stored()
    assert wechat_app.engine.calls == []


async def test_stale_or_future_timestamps_are_403(wechat_app: WeChatApp) -> None:
    now = int(time.time())
    for timestamp in (now - 301, now + 330, now - 86400):  # slack for a slow machine on the future side
        response = await wechat_app.post(text_xml("openid-late", "hello", 3001), signed_query(timestamp=timestamp))
        assert response.status_code == 403, timestamp
    within = await wechat_app.post(text_xml("openid-late", "hello", 3002), signed_query(timestamp=now - 250))
    assert within.status_code == 200
    assert await wechat_app.count(Message) == 2  # only the fresh one


async def test_a_replayed_nonce_is_403(wechat_app: WeChatApp) -> None:
    query = signed_query()
    first = await wechat_app.post(text_xml("openid-replay", "hello", 4001), query)
    assert first.status_code == 200
    replay = await wechat_app.post(text_xml("openid-replay", "hello again", 4002), query)
    assert replay.status_code == 403
    assert await wechat_app.count(Message) == 2
    assert len(wechat_app.engine.calls) == 1


async def test_xxe_and_entity_payloads_are_refused_and_nothing_is_stored(wechat_app: WeChatApp) -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<xml><ToUserName>gh</ToUserName><FromUserName>openid-xxe</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>5001</MsgId></xml>"
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        "<xml><FromUserName>openid-xxe</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>"
    )
    for payload in (xxe, laughs):
        response = await wechat_app.post(payload)
        assert response.status_code == 400
        assert "root:" not in response.text
    assert await wechat_app.nothing_stored()
    assert wechat_app.engine.calls == []


async def test_malformed_xml_is_400_and_an_oversized_body_413(wechat_app: WeChatApp) -> None:
    for payload in ("<xml><Content>unclosed", "not xml at all", "<other><MsgType>text</MsgType></other>",
                    "<xml><MsgType>text</MsgType></xml>"):
        assert (await wechat_app.post(payload)).status_code == 400, payload
    huge = text_xml("openid-big", "x" * (MAX_BODY_BYTES + 1), 6001)
    assert (await wechat_app.post(huge)).status_code == 413
    assert await wechat_app.nothing_stored()


async def test_aes_safe_mode_round_trip(wechat_app: WeChatApp) -> None:
    query, body = encrypted_request(text_xml("openid-aes", "hello secret", 7001))
    response = await wechat_app.post(body, query)
    assert response.status_code == 200
    assert "hello secret" not in response.text  # the answer is encrypted too
    envelope = response.text
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    fields = {name: envelope.split(f"<{name}>", 1)[1].split(f"</{name}>", 1)[0]
              for name in ("MsgSignature", "TimeStamp", "Nonce")}
    strip = {k: v.removeprefix("<![CDATA[").removesuffix("]]>") for k, v in fields.items()}
    inner = crypto.decrypt_message(envelope, strip["MsgSignature"], strip["TimeStamp"], strip["Nonce"])
    assert reply_content(inner) == "echo: hello secret"


async def test_aes_mode_with_a_forged_msg_signature_is_403(wechat_app: WeChatApp) -> None:
    query, body = encrypted_request(text_xml("openid-aes2", "hello", 7101))
    query["msg_signature"] = signature("wrong", query["timestamp"], query["nonce"], "x")
    assert (await wechat_app.post(body, query)).status_code == 403
    other_key, other_body = encrypted_request(text_xml("openid-aes2", "hi", 7102), aes_key="B" * 43)
    assert (await wechat_app.post(other_body, other_key)).status_code in (400, 403)
    assert await wechat_app.nothing_stored()
