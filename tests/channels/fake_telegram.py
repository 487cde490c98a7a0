"""A fake Telegram Bot API server on loopback for the real python-telegram-bot library.

It runs in its own thread (its own event loop), so the application under test talks to it over
real HTTP exactly as it would to api.telegram.org. It implements the methods the channel calls
(getMe, sendMessage, answerCallbackQuery, getFile + file download, setWebhook, deleteWebhook,
setMyCommands, getUpdates), records every request, and can be told to fail the next calls of a
method with 429 (``retry_after``) or 403 ("bot was blocked by the user"), or to answer slowly.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-fake-telegram-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "MedConcierge", "username": "medconcierge_test_bot"}
JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope"}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeTelegram:
    """The fake server's state; every accessor is thread-safe."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    # Seconds to wait before answering a call (method, params) -> delay; for ordering tests.
    delay: Callable[[str, dict[str, Any]], float] | None = None
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _message_id: int = 1000
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    # Control --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def fail_next(self, method: str, count: int = 1, *, status: int = 429, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` fail: 429 with ``retry_after`` or 403 blocked."""
        if status == 429:
            failure = Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        elif status == 403:
            failure = Failure(403, "Forbidden: bot was blocked by the user")
        else:
            failure = Failure(status, "Bad Request: injected failure")
        with self._lock:
            self.failures.setdefault(method, []).extend([failure] * count)

    def add_file(self, file_id: str, data: bytes, file_path: str) -> None:
        with self._lock:
            self.files[file_id] = (file_path, data)

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        with self._lock:
            self.updates.append(update)

    def requests(self, method: str | None = None, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls
                if (method is None or c.method == method) and (not ok_only or c.status == 200)
            ]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of every sendMessage that succeeded, in the order they completed."""
        return [
            c.params for c in self.requests("sendMessage", ok_only=True)
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [str(p["text"]) for p in self.sent(chat_id)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait (without blocking the caller's event loop) until ``predicate()`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; calls: {self.requests()}")
            await asyncio.sleep(0.02)

    # Server ---------------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[
            Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
        ])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.body()
            data: dict[str, Any] = json.loads(body) if body else {}
            return data
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            params[key] = json.loads(value) if key in JSON_FIELDS and isinstance(value, str) else value
        return params

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        if request.path_params["token"] != self.token:
            return self._record(method, params, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if self.delay is not None:
            await asyncio.sleep(self.delay(method, params))
        with self._lock:
            pending = self.failures.get(method)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return self._record(method, params, failure.status, body)
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                return self._record(method, params, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            result = handler(params)
        return self._record(method, params, 200, {"ok": True, "result": result})

    def _record(self, method: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> JSONResponse:
        with self._lock:
            self.calls.append(Call(method, params, status, time.monotonic()))
        return JSONResponse(body, status_code=status)

    async def _file(self, request: Request) -> Response:
        path = request.path_params["path"]
        with self._lock:
            data = next((d for p, d in self.files.values() if p == path), None)
            self.calls.append(Call("download", {"path": path}, 200 if data is not None else 404, time.monotonic()))
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="application/octet-stream")

    # Bot API methods ------------------------------------------------------------------------------

    def _m_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._message_id += 1
            message_id = self._message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_answerCallbackQuery(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_setWebhook(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_setMyCommands(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        with self._lock:
            path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data), "file_path": path}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        # Long polling, shortened so tests stay quick.
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)


# Update builders ----------------------------------------------------------------------------------

def _user(chat_id: int, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
    if language_code:
        user["language_code"] = language_code
    return user


def message_update(
    update_id: int, chat_id: int, message_id: int | None = None, language_code: str | None = "en",
    chat_type: str = "private", kind: str = "message", **content: Any,
) -> dict[str, Any]:
    """An update carrying a message with ``content`` (text=…, photo=[…], document={…}, voice={…}…)."""
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Pat"
    else:
        chat["title"] = "A group"
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else update_id,
        "date": int(time.time()),
        "chat": chat,
        **content,
    }
    if kind != "channel_post":
        message["from"] = _user(abs(chat_id), language_code)
    if kind == "edited_message":
        message["edit_date"] = int(time.time())
    return {"update_id": update_id, kind: message}


def text_update(update_id: int, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return message_update(update_id, chat_id, **content, **kwargs)


def callback_update(
    update_id: int, chat_id: int, data: str, query_id: str | None = None, language_code: str = "en"
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or f"cbq-{update_id}",
            "from": _user(chat_id, language_code),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
                "from": BOT_USER,
                "text": "Choose",
            },
        },
    }


def member_update(update_id: int, chat_id: int, status: str) -> dict[str, Any]:
    """my_chat_member: the user blocked ("kicked") or restarted ("member") the bot."""
    now = int(time.time())
    new_member: dict[str, Any] = {"user": BOT_USER, "status": status}
    if status == "kicked":
        new_member["until_date"] = 0
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
            "from": _user(chat_id, "en"),
            "date": now,
            "old_chat_member": {"user": BOT_USER, "status": "member"},
            "new_chat_member": new_member,
        },
    }
