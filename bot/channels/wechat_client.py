"""The WeChat API client: wechatpy's ``WeChatClient`` with the token handled in one place.

* The access token lives in a storage shared by every worker (Redis or the database) together
  with its expiry, and is refreshed ``REFRESH_MARGIN_SECONDS`` before it expires, by one worker at
  a time (a lease in the same storage); the others wait and read the new token.
* 40001/40014/42001 (token invalid or expired): refresh once and retry once.
* 45009 (API quota): ``TransientDeliveryError`` with ``retry_after``; the outbox backs off.
* 45015 (outside the 48-hour customer-service window), 45047 (reply quota used), 43004 (not
  subscribed), 40003 (unknown openid): ``RecipientUnreachable``; the console shows the reason.

wechatpy is synchronous (requests): calls run on a small dedicated thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.channels.base import DeliveryError, RecipientUnreachable, TransientDeliveryError
from bot.channels.wechat_session import TokenStorage

logger = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARGIN_SECONDS = 300
LEASE_SECONDS = 15
LEASE_WAIT_SECONDS = 10.0
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
QUOTA_ERROR = 45009
QUOTA_RETRY_AFTER_SECONDS = 300.0
OUTSIDE_WINDOW = "outside the 48-hour window: the patient must write first"
UNREACHABLE_ERRORS = {
    45015: OUTSIDE_WINDOW,
    45047: "customer-service reply limit reached: the patient must write again",
    43004: "the patient unfollowed the official account",
    40003: "unknown WeChat user (openid)",
}


class TokenKeeper:
    """Reads, refreshes and shares the access token (the only place that fetches one)."""

    def __init__(self, storage: TokenStorage, app_id: str, fetch: Callable[[], dict[str, Any]]) -> None:
        self._storage = storage
        self._fetch = fetch
        self._key = f"{app_id}_access_token"
        self._expiry_key = f"{app_id}_access_token_expires_at"
        self._lease = f"{app_id}_token_refresh"
        self._local = threading.Lock()

    def current(self) -> str:
        """A token valid for at least the refresh margin (refreshing it if needed)."""
        token, expires_at = self._read()
        if token and expires_at - time.time() > REFRESH_MARGIN_SECONDS:
            return token
        return self.refresh(stale=token)

    def refresh(self, stale: str | None) -> str:
        """Replace ``stale`` with a new token unless another worker already did."""
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        with self._local:
            while True:
                token, expires_at = self._read()
                if token and token != stale and expires_at - time.time() > REFRESH_MARGIN_SECONDS:
                    return token
                if self._storage.acquire(self._lease, LEASE_SECONDS):
                    try:
                        return self._fetch_and_store()
                    finally:
                        self._storage.release(self._lease)
                if time.monotonic() > deadline:
                    raise TransientDeliveryError("another worker is refreshing the WeChat access token", 5.0)
                time.sleep(0.1)

    def _read(self) -> tuple[str | None, float]:
        token = self._storage.get(self._key)
        expires_at = self._storage.get(self._expiry_key) or 0
        return (str(token) if token else None), float(expires_at)

    def _fetch_and_store(self) -> str:
        result = self._fetch()
        token = str(result["access_token"])
        expires_in = int(result.get("expires_in") or 7200)
        self._storage.set(self._key, token, expires_in)
        self._storage.set(self._expiry_key, time.time() + expires_in, expires_in)
        logger.info("WeChat access token refreshed (valid %d s)", expires_in)
        return token


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client on a configurable base URL, without its own (unbounded) token retry."""

    def __init__(self, app_id: str, secret: str, base_url: str, storage: TokenStorage, timeout: float) -> None:
        super().__init__(app_id, secret, session=storage, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = base_url
        self.keeper = TokenKeeper(storage, app_id, self.fetch_access_token)

    def fetch_access_token(self) -> dict[str, Any]:
        # wechatpy's version hard-codes api.weixin.qq.com and sets no timeout.
        response = self._http.get(
            self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        return result

    @property
    def access_token(self) -> str:
        # AttributeError before __init__ finished: wechatpy's __new__ inspects attributes.
        return self.keeper.current()


class WeChatApi:
    """The calls the channel needs, async, with the token and error policy above."""

    def __init__(
        self, app_id: str, secret: str, base_url: str, storage: TokenStorage, timeout: float = 10.0, threads: int = 8
    ) -> None:
        base = base_url if base_url.endswith("/") else base_url + "/"
        self._client = _Client(app_id, secret, base, storage, timeout)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wechat-api")

    @property
    def keeper(self) -> TokenKeeper:
        return self._client.keeper

    async def send_text(self, openid: str, text: str) -> None:
        """One customer-service text message (``message/custom/send``)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._run(lambda token: self._client.post("message/custom/send", params={"access_token": token},
                                                        data=body))

    async def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A temporary media file (``media/get``): its bytes and content type."""

        def call(token: str) -> tuple[bytes, str]:
            response = self._client.get("media/get", params={"access_token": token, "media_id": media_id})
            if not isinstance(response, requests.Response):
                raise DeliveryError("media/get answered without a file")
            if len(response.content) > max_bytes:
                raise DeliveryError("media file over the size limit")
            content_type = response.headers.get("Content-Type", "application/octet-stream")
            return response.content, content_type.split(";")[0].strip().lower()

        return await self._run(call)

    def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu (synchronous: used by the command line)."""
        self._call(lambda token: self._client.post("menu/create", params={"access_token": token}, data=menu))

    async def _run(self, call: Callable[[str], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, call)

    def _call(self, call: Callable[[str], T]) -> T:
        try:
            token = self.keeper.current()
            try:
                return call(token)
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                logger.info("WeChat rejected the access token (%s): refreshing once", exc.errcode)
                token = self.keeper.refresh(stale=token)
                return call(token)
        except WeChatClientException as exc:
            raise _delivery_error(exc) from None
        except requests.RequestException as exc:
            raise TransientDeliveryError(f"WeChat API unreachable: {type(exc).__name__}") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client._http.close()


def _delivery_error(exc: WeChatClientException) -> DeliveryError:
    code = exc.errcode
    if code in UNREACHABLE_ERRORS:
        return RecipientUnreachable(UNREACHABLE_ERRORS[code])
    if code == QUOTA_ERROR:
        return TransientDeliveryError("WeChat API quota reached (45009)", QUOTA_RETRY_AFTER_SECONDS)
    if code is None or code == -1 or code in TOKEN_ERRORS:
        # HTTP error, "system busy", or a token rejected twice: worth another try later.
        return TransientDeliveryError(f"WeChat API error {code}")
    return DeliveryError(f"WeChat API error {code}: {str(exc.errmsg)[:100]}")
