"""Request ids: every response carries one (the caller's or a new one) and so does every log line of the request."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.observability.logging import JsonFormatter


class FormattedLines(logging.Handler):
    """Formats each record when it is emitted (the ids live in context variables of that moment)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_the_callers_request_id_is_echoed_and_a_missing_one_is_made(app_client: Any) -> None:
    given = await app_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = await app_client.get("/healthz")
    other = await app_client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 16
    assert made.headers["X-Request-ID"] != other.headers["X-Request-ID"]


async def test_log_lines_of_a_turn_carry_the_request_and_conversation_ids(app_client: Any) -> None:
    lines = FormattedLines()
    logger = logging.getLogger("bot")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(lines)
    try:
        response = await app_client.post(
            "/webhooks/rest/webhook", json={"sender": "rid-patient", "message": "my tumour marker CA-125"},
            headers={"X-Request-ID": "turn-42"},
        )
    finally:
        logger.removeHandler(lines)
        logger.setLevel(previous)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "turn-42"
    of_the_turn = [line for line in lines.lines if line.get("conversation_id") is not None]
    assert of_the_turn, f"no log line of the turn carried a conversation id: {lines.lines}"
    assert all(line.get("request_id") == "turn-42" for line in of_the_turn)
    assert any(line["message"] == "turn answered" and line["level"] == "INFO" for line in of_the_turn)
    assert not any("CA-125" in json.dumps(line) for line in lines.lines), "message text reached the log"
