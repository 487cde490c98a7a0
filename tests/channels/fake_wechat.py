"""A fake WeChat API server on loopback (free port) for tests and benchmarks.

It implements what the channel uses: ``GET /cgi-bin/token`` (issues tokens), ``POST
/cgi-bin/message/custom/send`` (records customer-service messages), ``GET /cgi-bin/media/get``
(serves media registered by the test) and ``POST /cgi-bin/menu/create``. Tokens can be expired on
demand (the next call with an old token gets 42001), and the next sends can be made to fail with a
given error code (45015, 45009, ...).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

APP_ID = "wx-test-app"
APP_SECRET = "test-app-secret"


@dataclass
class FakeWeChatState:
    """Everything the fake server saw and will do; guarded by ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    valid_tokens: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    expires_in: int = 7200
    sent: list[dict[str, Any]] = field(default_factory=list)
    rejected_calls: list[tuple[str, int]] = field(default_factory=list)
    send_errors: list[int] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    menus: list[dict[str, Any]] = field(default_factory=list)
    send_delay_seconds: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def _json(self, payload: dict[str, Any], status: int = 200) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}

    def _token_ok(self, path: str) -> bool:
        state = self.server.state
        token = self._query().get("access_token", "")
        with state.lock:
            if token in state.valid_tokens:
                return True
            state.rejected_calls.append((path, 42001))
        self._json({"errcode": 42001, "errmsg": "access_token expired"})
        return False

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        state = self.server.state
        query = self._query()
        if path == "/cgi-bin/token":
            if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                self._json({"errcode": 40013, "errmsg": "invalid appid"})
                return
            token = "tok-" + secrets.token_hex(8)
            with state.lock:
                state.valid_tokens.add(token)
                state.tokens_issued += 1
            self._json({"access_token": token, "expires_in": state.expires_in})
            return
        if path == "/cgi-bin/media/get":
            if not self._token_ok(path):
                return
            with state.lock:
                item = state.media.get(query.get("media_id", ""))
            if item is None:
                self._json({"errcode": 40007, "errmsg": "invalid media_id"})
                return
            data, content_type = item
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._json({"errcode": 404, "errmsg": "not found"}, 404)

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if path == "/cgi-bin/message/custom/send":
            if not self._token_ok(path):
                return
            if state.send_delay_seconds:
                time.sleep(state.send_delay_seconds)
            with state.lock:
                error = state.send_errors.pop(0) if state.send_errors else 0
                if error:
                    state.rejected_calls.append((path, error))
                else:
                    state.sent.append(body)
            self._json({"errcode": error, "errmsg": "ok" if not error else f"error {error}"})
            return
        if path == "/cgi-bin/menu/create":
            if not self._token_ok(path):
                return
            with state.lock:
                state.menus.append(body)
            self._json({"errcode": 0, "errmsg": "ok"})
            return
        self._json({"errcode": 404, "errmsg": "not found"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeWeChatState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeWeChat:
    """Start with ``start()``, point ``MC_WECHAT__API_BASE_URL`` at ``base_url``, stop with ``stop()``."""

    def __init__(self) -> None:
        self.state = FakeWeChatState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-wechat", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/cgi-bin/"

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (the next call with one gets 42001)."""
        with self.state.lock:
            self.state.valid_tokens.clear()

    def fail_next_sends(self, *errcodes: int) -> None:
        with self.state.lock:
            self.state.send_errors.extend(errcodes)

    def add_media(self, media_id: str, data: bytes, content_type: str) -> None:
        with self.state.lock:
            self.state.media[media_id] = (data, content_type)

    def sent_texts(self, openid: str | None = None) -> list[str]:
        with self.state.lock:
            return [m["text"]["content"] for m in self.state.sent if openid is None or m["touser"] == openid]

    def wait_for_sent(self, count: int, openid: str | None = None, timeout: float = 10.0) -> list[str]:
        """Block until ``count`` messages were sent (to ``openid``); return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.sent_texts(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.02)
        return self.sent_texts(openid)

    async def until_sent(self, count: int, openid: str | None = None, timeout: float = 10.0) -> list[str]:
        """Like ``wait_for_sent`` without blocking the event loop (the app under test shares it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.sent_texts(openid)
            if len(texts) >= count:
                return texts
            await asyncio.sleep(0.02)
        return self.sent_texts(openid)
