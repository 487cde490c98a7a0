"""REST channel, Rasa-compatible: ``POST /webhooks/rest/webhook`` with ``{"sender", "message", "metadata"?}``."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.messages import InboundMessage, OutboundMessage
from bot.runtime import Runtime
from bot.storage.database import STORAGE_UNAVAILABLE

logger = logging.getLogger(__name__)

CHANNEL = "rest"
MAX_BODY_BYTES = 64 * 1024


class RestMetadata(BaseModel):
    """Optional hints a REST client may send."""

    model_config = ConfigDict(extra="allow")

    language: str | None = Field(None, max_length=16)
    message_id: str | None = Field(None, min_length=1, max_length=128)


class RestRequest(BaseModel):
    """The body of a REST channel message."""

    model_config = ConfigDict(extra="forbid")

    sender: str = Field(min_length=1, max_length=128)
    message: str
    metadata: RestMetadata | None = None


class RestOutbound:
    """Outbound delivery for REST clients: replies stay in the database for the poll and live stream."""

    name = CHANNEL

    async def deliver(self, external_user_id: str, message: OutboundMessage) -> None:
        return None


def error(status: int, code: str, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "detail": detail})


def build_router(runtime: Runtime) -> APIRouter:
    """The REST webhook bound to the runtime's conversation service."""
    router = APIRouter()
    max_chars = runtime.settings.rest.max_message_chars

    @router.post("/webhooks/rest/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, "payload_too_large", f"body over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(400, "invalid_json", "the body is not valid JSON")
        try:
            parsed = RestRequest.model_validate(data)
        except ValidationError as exc:
            fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            return error(422, "invalid_request", fields)
        if len(parsed.message) > max_chars:
            return error(413, "message_too_long", f"message over {max_chars} characters")
        if not parsed.message.strip():
            return error(422, "invalid_request", [{"field": "message", "message": "must not be empty"}])
        metadata = parsed.metadata or RestMetadata()
        inbound = InboundMessage(
            channel=CHANNEL,
            external_user_id=parsed.sender,
            text=parsed.message,
            external_message_id=metadata.message_id,
            language_hint=metadata.language,
        )
        try:
            result = await runtime.conversations.handle(inbound)
        except STORAGE_UNAVAILABLE:
            logger.exception("database unavailable")
            return error(503, "storage_unavailable", "try again shortly")
        return JSONResponse([reply.as_rest(parsed.sender) for reply in result.replies])

    return router
