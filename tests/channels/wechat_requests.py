"""Real WeChat requests for tests and benchmarks: signed query strings, message XML, AES envelopes."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from wechatpy.crypto import WeChatCrypto

TOKEN = "wechat-test-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
ACCOUNT = "gh_medconcierge"


def signature(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted parts, computed independently of the code under test."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's scheme)


def signed_query(token: str = TOKEN, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(8)
    return {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "ignored"}


def message_xml(openid: str, msg_type: str, create_time: int | None = None, **fields: Any) -> str:
    """A message or event as WeChat posts it."""
    created = int(time.time()) if create_time is None else create_time
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    for name, value in fields.items():
        parts.append(f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, msg_id: int) -> str:
    return message_xml(openid, "text", Content=content, MsgId=msg_id)


def encrypted_request(xml: str, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = "wx-test-app",
                      timestamp: int | None = None) -> tuple[dict[str, str], str]:
    """Query and body of a safe-mode (AES) request, encrypted and signed by wechatpy itself."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(8)
    crypto = WeChatCrypto(token, aes_key, app_id)
    envelope = crypto.encrypt_message(xml, nonce, ts)
    encrypt = envelope.split("<Encrypt><![CDATA[", 1)[1].split("]]></Encrypt>", 1)[0]
    query = {
        "signature": signature(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": signature(token, ts, nonce, encrypt),
    }
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return query, body


def reply_content(xml: str) -> str:
    """The Content of a passive text reply."""
    return xml.split("<Content><![CDATA[", 1)[1].rsplit("]]></Content>", 1)[0].replace("]]]]><![CDATA[>", "]]>")
