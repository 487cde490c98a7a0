"""The dialogue engine interface and its Rasa implementation (Rasa's REST channel over loopback HTTP)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import aiohttp

from bot.core.messages import Button, OutboundMessage

logger = logging.getLogger(__name__)

ACTION_LISTEN = "action_listen"


class EngineUnavailable(RuntimeError):
    """The dialogue engine did not answer (down, slow or erroring)."""


class DialogueEngine(Protocol):
    """Anything that turns a patient's text into replies for one conversation."""

    async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        """Return the replies to ``text`` in the conversation ``sender_id``."""
        ...

    async def healthy(self) -> bool:
        """True when the engine answers its authenticated status endpoint."""
        ...

    async def intent_of(self, text: str) -> tuple[str | None, float]:
        """The intent the engine's NLU reads in ``text`` and its confidence, without running the dialogue."""
        ...


def _tracker_path(sender_id: str) -> str:
    """Rasa's HTTP API path of one conversation's tracker."""
    return f"/conversations/{sender_id}/tracker"


def parse_rasa_replies(raw: list[dict[str, Any]]) -> list[OutboundMessage]:
    """Turn Rasa's REST output into replies, folding a bare ``custom`` into the reply before it.

    Rasa's collecting channel emits ``custom`` as a separate message; patients and tests expect
    the markers of a reply on the reply itself.
    """
    replies: list[OutboundMessage] = []
    for item in raw:
        text = item.get("text")
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
        ]
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
        if text is None and not buttons and custom and replies:
            replies[-1].custom.update(custom)
            continue
        replies.append(OutboundMessage(text=text, buttons=buttons, custom=dict(custom or {})))
    return replies


class RasaEngine:
    """Talks to a Rasa 3.6 server on loopback, over aiohttp.

    At most ``max_in_flight`` turns are at Rasa at once; the others wait here, first come first
    served. Rasa interleaves every request it holds, so a burst sent all at once finishes late for
    everyone and very late for some; queued here, the same throughput comes with a short tail.

    aiohttp rather than httpx: a turn's request to Rasa cost the application 1.3-1.5 ms of CPU with
    httpx and 0.1 ms with aiohttp (measured here, 10 concurrent requests on loopback).
    """

    def __init__(
        self, base_url: str, token: str, timeout: float = 10.0, max_in_flight: int = 4,
        queue_seconds: float | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=2.0)
        self._queue_seconds = timeout if queue_seconds is None else queue_seconds
        self._turns = asyncio.Semaphore(max_in_flight)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use (it belongs to the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                base_url=self._base_url,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=100),
                raise_for_status=True,
            )
        return self._session

    async def _call(self, method: str, path: str, seconds: float | None = None, **kwargs: Any) -> Any:
        """One request to Rasa (``seconds`` overrides the timeout); the decoded JSON body, None when empty."""
        options: dict[str, Any] = dict(kwargs)
        if seconds is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=seconds, connect=min(2.0, seconds))
        async with self._client().request(method, path, **options) as response:
            body = await response.read()
        return json.loads(body) if body else None

    async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        """One turn; a silent one in a conversation Rasa had stopped is asked again once it is resumed."""
        replies = await self._turn(sender_id, text, metadata)
        if replies or not await self._unstick(sender_id):
            return replies
        return await self._turn(sender_id, text, metadata)

    async def _turn(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        try:
            async with asyncio.timeout(self._queue_seconds):  # the wait for a turn is bounded too
                await self._turns.acquire()
        except TimeoutError as exc:
            raise EngineUnavailable("Rasa is overloaded: no turn within the timeout") from exc
        try:
            raw = await self._call(
                "POST", "/webhooks/rest/webhook", json={"sender": sender_id, "message": text, "metadata": metadata}
            )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa did not answer: {type(exc).__name__}") from exc
        finally:
            self._turns.release()
        if not isinstance(raw, list):
            raise EngineUnavailable("Rasa answered with an unexpected body")
        return parse_rasa_replies(raw)

    async def _unstick(self, sender_id: str) -> bool:
        """After a silent turn: end a turn Rasa left short of ``action_listen``; True when one was.

        Rasa's circuit breaker stops a turn after 10 predicted actions (a dialogue loop) without
        ``action_listen``, and then stops every later turn of the conversation at once, silently, as it
        counts the actions since the last listen. Appending the listen lets the conversation go on.
        """
        path = _tracker_path(sender_id)
        try:
            state = await self._call("GET", path, params={"token": self._token, "include_events": "NONE"})
            if (state or {}).get("latest_action_name") in (None, ACTION_LISTEN):
                return False  # a turn that ended normally and said nothing
            await self._call("POST", f"{path}/events", params={"token": self._token, "include_events": "NONE"},
                             json={"event": "action", "name": ACTION_LISTEN})
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning("could not check a silent turn's conversation in Rasa: %s", type(exc).__name__)
            return False
        logger.warning("Rasa had stopped a conversation short of action_listen (circuit breaker): resumed")
        return True

    async def intent_of(self, text: str) -> tuple[str | None, float]:
        try:
            parsed = await self._call("POST", "/model/parse", params={"token": self._token}, json={"text": text})
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa did not parse: {type(exc).__name__}") from exc
        intent = (parsed or {}).get("intent") or {}
        return intent.get("name"), float(intent.get("confidence") or 0.0)

    async def healthy(self) -> bool:
        try:
            await self._call("GET", "/status", 3.0, params={"token": self._token})
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
        return True

    async def forget(self, sender_id: str) -> None:
        """Replace the conversation's tracker with an empty one (erasure)."""
        try:
            await self._call("PUT", f"{_tracker_path(sender_id)}/events", params={"token": self._token}, json=[])
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa did not reset the tracker: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
