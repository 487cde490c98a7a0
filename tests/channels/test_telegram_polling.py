"""Polling mode (development): getUpdates-driven messages are answered and the offset advances."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.fake_telegram import FakeTelegram, text_update
from tests.channels.telegram_harness import running_app

CHAT_A = 7770001
CHAT_B = 7770002


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


async def test_polled_updates_are_answered_in_order_and_the_offset_advances(
    sqlite_url: str, fake: FakeTelegram
) -> None:
    for update_id, chat, text in [(501, CHAT_A, "first"), (502, CHAT_B, "other chat"), (503, CHAT_A, "second")]:
        fake.push_update(text_update(update_id, chat, text))
    async with running_app(sqlite_url, fake, mode="polling"):
        await fake.wait_for(lambda: len(fake.sent()) == 3)
        fake.push_update(text_update(504, CHAT_A, "third"))
        await fake.wait_for(lambda: len(fake.sent(CHAT_A)) == 3)
        await fake.wait_for(lambda: any(c.params.get("offset") == "505" for c in fake.requests("getUpdates")))
    assert fake.texts(CHAT_A) == ["echo: first", "echo: second", "echo: third"]
    assert fake.texts(CHAT_B) == ["echo: other chat"]
    assert fake.requests("deleteWebhook"), "getUpdates is refused while a webhook is set"
    offsets = [c.params.get("offset") for c in fake.requests("getUpdates")]
    assert offsets[0] is None
    assert "504" in offsets and "505" in offsets
    assert offsets.index("504") < offsets.index("505")
