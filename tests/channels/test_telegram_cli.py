"""``python -m bot telegram set-webhook`` against the fake Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.channels.telegram_cli import set_webhook, webhook_url
from bot.settings import Settings
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.telegram_harness import SECRET, telegram_settings


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


def _settings(sqlite_url: str, fake: FakeTelegram, public_url: str | None) -> Settings:
    settings = telegram_settings(sqlite_url, fake)
    return settings.model_copy(update={"http": settings.http.model_copy(update={"public_url": public_url})})


async def test_set_webhook_registers_url_secret_and_localized_commands(sqlite_url: str, fake: FakeTelegram) -> None:
    settings = _settings(sqlite_url, fake, "https://bot.example.org/")
    url = await set_webhook(settings, drop_pending_updates=True)
    assert url == "https://bot.example.org/webhooks/telegram"
    (call,) = fake.requests("setWebhook")
    assert call.params["url"] == url
    assert call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"]
    commands = {c.params.get("language_code"): c.params["commands"] for c in fake.requests("setMyCommands")}
    assert set(commands) == {None, "en", "zh", "ru", "ar", "ko", "ja"}
    names = [c["command"] for c in commands["ru"]]
    assert names == ["start", "help", "language", "status", "human"]
    assert commands["ru"][4]["description"] != commands["en"][4]["description"]
    assert commands["zh"][4]["description"] != commands["en"][4]["description"]


def test_webhook_url_requires_a_public_https_url(sqlite_url: str, fake: FakeTelegram) -> None:
    with pytest.raises(ValueError, match=r"http\.public_url"):
        webhook_url(_settings(sqlite_url, fake, None))
    with pytest.raises(ValueError, match="https"):
        webhook_url(_settings(sqlite_url, fake, "http://insecure.example.org"))


def test_webhook_mode_refuses_to_start_without_a_strong_secret(sqlite_url: str, fake: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        telegram_settings(sqlite_url, fake, webhook_secret="short")


def test_command_line_registers_the_webhook(sqlite_url: str, fake: FakeTelegram) -> None:
    env = {
        **os.environ,
        "MC_ENVIRONMENT": "test",
        "MC_DATABASE__URL": sqlite_url,
        "MC_HTTP__PUBLIC_URL": "https://bot.example.org",
        "MC_TELEGRAM__MODE": "webhook",
        "MC_TELEGRAM__BOT_TOKEN": fake.token,
        "MC_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "MC_TELEGRAM__BASE_URL": fake.base_url,
        "MC_TELEGRAM__BASE_FILE_URL": fake.base_file_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "telegram", "set-webhook"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "https://bot.example.org/webhooks/telegram" in done.stdout
    assert [c.params["url"] for c in fake.requests("setWebhook")] == ["https://bot.example.org/webhooks/telegram"]
    assert len(fake.requests("setMyCommands")) == 7
