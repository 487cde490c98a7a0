"""HTTP endpoints of the WeChat channel: ``GET``/``POST /webhooks/wechat`` (plain and AES safe mode).

Every request is verified before anything is stored: timestamp within 5 minutes, SHA-1 signature
compared in constant time, nonce never seen before (POST), body at most 64 KiB, XML without DTD or
entities; in AES mode ``msg_signature`` over the ciphertext as well. Failures: 403 (not WeChat),
413 (too large), 400 (malformed).
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat import WeChatChannel
from bot.channels.wechat_client import WeChatApi
from bot.channels.wechat_menu import menu_keys
from bot.channels.wechat_render import passive_text_xml
from bot.channels.wechat_security import (
    MAX_BODY_BYTES,
    RequestRejected,
    check_nonce,
    check_signature,
    check_timestamp,
    decrypt_envelope,
    parse_xml,
)
from bot.channels.wechat_session import DatabaseSessionStorage, build_token_storage
from bot.channels.wechat_state import StateStore, build_state_store
from bot.runtime import Runtime
from bot.settings import WeChatSettings
from bot.storage.database import STORAGE_UNAVAILABLE

logger = logging.getLogger(__name__)

PATH = "/webhooks/wechat"
PURGE_INTERVAL_SECONDS = 600.0


def _rejected(exc: RequestRejected) -> Response:
    # The reason is logged for operators and never echoed to the caller.
    logger.warning("WeChat request refused (%d): %s", exc.status, exc.reason)
    return PlainTextResponse("", status_code=exc.status)


def build_router(channel: WeChatChannel, settings: WeChatSettings, state: StateStore) -> APIRouter:
    """The verification and message endpoints bound to ``channel``."""
    router = APIRouter()
    token = settings.token.get_secret_value() if settings.token else ""
    aes_key = settings.encoding_aes_key.get_secret_value() if settings.encoding_aes_key else None
    crypto = WeChatCrypto(token, aes_key, settings.app_id) if aes_key else None

    @router.get(PATH)
    async def verify(request: Request) -> Response:
        """Server verification: echo ``echostr`` when the signature and timestamp are right."""
        query = request.query_params
        try:
            timestamp = query.get("timestamp")
            check_timestamp(timestamp)
            check_signature(token, query.get("signature"), str(timestamp), query.get("nonce"))
        except RequestRejected as exc:
            return _rejected(exc)
        return PlainTextResponse(query.get("echostr", "")[:256])

    @router.post(PATH)
    async def receive(request: Request) -> Response:
        """A message or event; answered with a passive reply, or ``success``."""
        arrived = time.monotonic()
        query = request.query_params
        try:
            body = await _read_limited(request)
            timestamp = str(query.get("timestamp"))
            check_timestamp(query.get("timestamp"))
            nonce = str(query.get("nonce"))
            check_signature(token, query.get("signature"), timestamp, query.get("nonce"))
            aes = query.get("encrypt_type", "raw").lower() == "aes"
            if aes and crypto is None:
                raise RequestRejected(403, "AES message but no encoding_aes_key configured")
            await check_nonce(state, timestamp, nonce)
            fields = parse_xml(body)
            if aes and crypto is not None:
                inner = decrypt_envelope(crypto, token, fields, query.get("msg_signature"), timestamp, nonce)
                fields = parse_xml(inner.encode("utf-8"))
            if not fields.get("FromUserName") or not fields.get("MsgType"):
                raise RequestRejected(400, "message without FromUserName or MsgType")
        except RequestRejected as exc:
            return _rejected(exc)
        except STORAGE_UNAVAILABLE:
            logger.exception("nonce store unavailable")
            return PlainTextResponse("", status_code=503)  # WeChat retries
        try:
            text = await channel.respond(fields, arrived)
        except STORAGE_UNAVAILABLE:
            logger.exception("database unavailable")
            return PlainTextResponse("", status_code=503)  # WeChat retries
        if text is None:
            return PlainTextResponse("success")
        xml = passive_text_xml(fields["FromUserName"], fields.get("ToUserName", ""), text)
        if aes and crypto is not None:
            xml = crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return Response(xml, media_type="application/xml")

    return router


async def _read_limited(request: Request) -> bytes:
    """The body, refusing more than ``MAX_BODY_BYTES`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestRejected(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestRejected(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Mount the WeChat channel when app id and token are configured."""
    settings = runtime.settings
    wechat = settings.wechat
    if not wechat.enabled:
        return
    if wechat.token is None or len(wechat.token.get_secret_value()) < 3:
        # An empty token would let anyone compute valid signatures.
        logger.error("WeChat channel not mounted: MC_WECHAT__TOKEN is empty or too short")
        return
    state = build_state_store(settings.redis.url, runtime.database)
    storage = build_token_storage(settings.redis.url, settings.database_url)
    secret = wechat.app_secret.get_secret_value() if wechat.app_secret else ""
    api = WeChatApi(str(wechat.app_id), secret, wechat.api_base_url, storage)
    channel = WeChatChannel(
        runtime.conversations,
        runtime.database,
        runtime.outbox,
        api,
        state,
        passive_seconds=wechat.passive_reply_seconds,
        default_language=wechat.default_language,
        menu_keys=menu_keys(wechat.menu),
        max_attachment_bytes=settings.attachments_max_bytes,
    )
    runtime.outbox.register(channel)
    app.include_router(build_router(channel, wechat, state))

    async def purge_state() -> None:
        while True:
            try:
                await state.purge()
            except Exception:  # a database blip must not end the job
                logger.exception("wechat state purge failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    async def close() -> None:
        await channel.aclose()
        await state.aclose()
        api.close()
        if isinstance(storage, DatabaseSessionStorage):
            storage.close()

    runtime.background_jobs["wechat_state_purge"] = purge_state
    runtime.shutdown_hooks.append(close)
