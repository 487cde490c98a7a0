"""The dialogue engine interface and its Rasa implementation (Rasa's REST channel over loopback HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx

from bot.core.messages import Button, OutboundMessage


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
    """Talks to a Rasa 3.6 server on loopback.

    At most ``max_in_flight`` turns are at Rasa at once; the others wait here, first come first
    served. Rasa interleaves every request it holds, so a burst sent all at once finishes late for
    everyone and very late for some; queued here, the same throughput comes with a short tail.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, max_in_flight: int = 4) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._turns = asyncio.Semaphore(max_in_flight)
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def respond(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        try:
            async with asyncio.timeout(self._timeout):  # waiting for a turn counts too
                await self._turns.acquire()
        except TimeoutError as exc:
            raise EngineUnavailable("Rasa is overloaded: no turn within the timeout") from exc
        try:
            response = await self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa did not answer: {type(exc).__name__}") from exc
        finally:
            self._turns.release()
        if not isinstance(raw, list):
            raise EngineUnavailable("Rasa answered with an unexpected body")
        return parse_rasa_replies(raw)

    async def intent_of(self, text: str) -> tuple[str | None, float]:
        try:
            response = await self._client.post("/model/parse", params={"token": self._token}, json={"text": text})
            response.raise_for_status()
            intent = response.json().get("intent") or {}
        except (httpx.HTTPError, ValueError) as exc:
            raise EngineUnavailable(f"Rasa did not parse: {type(exc).__name__}") from exc
        return intent.get("name"), float(intent.get("confidence") or 0.0)

    async def healthy(self) -> bool:
        try:
            response = await self._client.get("/status", params={"token": self._token}, timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def forget(self, sender_id: str) -> None:
        """Replace the conversation's tracker with an empty one (erasure)."""
        try:
            response = await self._client.put(
                f"/conversations/{sender_id}/tracker/events",
                params={"token": self._token},
                json=[],
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"Rasa did not reset the tracker: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
