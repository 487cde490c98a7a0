"""Verification of WeChat server requests: signatures, timestamps, nonces, safe XML, AES envelopes.

wechatpy's ``check_signature`` compares with ``!=`` and ignores the timestamp, so both checks are
done here: the SHA-1 is computed locally and compared with ``hmac.compare_digest``; a timestamp
more than five minutes away from now (either way) is refused; each (timestamp, nonce) pair is
accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from bot.channels.wechat_state import StateStore

MAX_BODY_BYTES = 64 * 1024
TIMESTAMP_TOLERANCE_SECONDS = 300
# Nonces are remembered a little longer than a timestamp stays acceptable.
NONCE_TTL_SECONDS = 2 * TIMESTAMP_TOLERANCE_SECONDS + 60
MAX_PARAM_CHARS = 128


class RequestRejected(Exception):
    """The request must be refused with ``status`` (403 unauthenticated, 400 malformed, 413 too large)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324 (WeChat's scheme)


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a computed signature with the one in the request."""
    if not given or len(given) > MAX_PARAM_CHARS:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace"))


def check_timestamp(timestamp: str | None, now: float | None = None) -> int:
    """The request's timestamp as an int; refused when missing, malformed, stale or in the future."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise RequestRejected(403, "missing or malformed timestamp")
    value = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - value) > TIMESTAMP_TOLERANCE_SECONDS:
        raise RequestRejected(403, "timestamp outside the accepted window")
    return value


def check_signature(token: str, signature: str | None, timestamp: str, nonce: str | None) -> None:
    """The plain ``signature`` query parameter over (token, timestamp, nonce)."""
    if not nonce or len(nonce) > MAX_PARAM_CHARS:
        raise RequestRejected(403, "missing or malformed nonce")
    if not signature_matches(sha1_signature(token, timestamp, nonce), signature):
        raise RequestRejected(403, "bad signature")


async def check_nonce(store: StateStore, timestamp: str, nonce: str) -> None:
    """Accept each (timestamp, nonce) once; a replay of a captured request is refused."""
    if not await store.add(f"nonce:{timestamp}:{nonce}", 1, NONCE_TTL_SECONDS):
        raise RequestRejected(403, "replayed nonce")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Parse a WeChat XML document into its top-level fields, refusing DTDs and entities.

    defusedxml refuses DOCTYPE, ENTITY and external references (XXE, billion laughs); anything that
    is not a flat ``<xml>`` element of text fields is malformed.
    """
    try:
        root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise RequestRejected(400, f"forbidden XML construct: {type(exc).__name__}") from None
    except (ParseError, ValueError):
        raise RequestRejected(400, "malformed XML") from None
    if root.tag != "xml":
        raise RequestRejected(400, "malformed XML: the root element must be <xml>")
    fields: dict[str, str] = {}
    for child in root:
        fields[child.tag] = (child.text or "").strip() if len(child) == 0 else ""
    return fields


def decrypt_envelope(
    crypto: WeChatCrypto, token: str, envelope: dict[str, str], msg_signature: str | None, timestamp: str, nonce: str
) -> str:
    """Verify ``msg_signature`` over the ``Encrypt`` field in constant time, then decrypt it (AES mode)."""
    encrypted = envelope.get("Encrypt")
    if not encrypted:
        raise RequestRejected(400, "AES mode without an Encrypt field")
    if not signature_matches(sha1_signature(token, timestamp, nonce, encrypted), msg_signature):
        raise RequestRejected(403, "bad msg_signature")
    try:
        plain: Any = PrpCrypto(crypto.key).decrypt(encrypted, crypto.app_id)
    except InvalidAppIdException:
        raise RequestRejected(403, "the encrypted message is not for this account") from None
    except Exception:  # padding or base64 errors from a forged body
        raise RequestRejected(400, "the encrypted message cannot be decrypted") from None
    return str(plain)
