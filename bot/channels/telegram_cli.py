"""``python -m bot telegram set-webhook`` / ``set-commands``: register the bot with the Bot API."""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, build_application, register_commands
from bot.channels.telegram_web import WEBHOOK_PATH
from bot.settings import Settings, get_settings


def webhook_url(settings: Settings) -> str:
    """The public webhook URL; raises ValueError naming the setting that is missing."""
    public = settings.http.public_url
    if not public:
        raise ValueError("http.public_url: set MC_HTTP__PUBLIC_URL to the application's public https URL")
    if not public.startswith("https://"):
        raise ValueError("http.public_url: Telegram delivers webhooks only to https URLs")
    return public.rstrip("/") + WEBHOOK_PATH


async def set_webhook(settings: Settings, drop_pending_updates: bool) -> str:
    """Register the webhook with its secret token, and the command menu in every language."""
    url = webhook_url(settings)
    if settings.telegram.webhook_secret is None:
        raise ValueError("telegram.webhook_secret: set MC_TELEGRAM__WEBHOOK_SECRET")
    application = build_application(settings.telegram, rate_limited=False)
    async with application.bot as bot:
        await bot.set_webhook(
            url,
            secret_token=settings.telegram.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending_updates,
        )
        await register_commands(bot, settings.languages)
    return url


async def set_commands(settings: Settings) -> None:
    application = build_application(settings.telegram, rate_limited=False)
    async with application.bot as bot:
        await register_commands(bot, settings.languages)


def cmd_set_webhook(args: argparse.Namespace) -> int:
    """Register the webhook URL (http.public_url + /webhooks/telegram), its secret and the commands."""
    settings = get_settings()
    if not settings.telegram.enabled:
        print("telegram.bot_token: set MC_TELEGRAM__BOT_TOKEN first", file=sys.stderr)
        return 2
    try:
        url = asyncio.run(set_webhook(settings, args.drop_pending_updates))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except TelegramError as exc:
        print(f"the Bot API refused: {exc.message}", file=sys.stderr)
        return 1
    print(f"webhook set: {url} (commands registered for {', '.join(settings.languages)})")
    return 0


def cmd_set_commands(_args: argparse.Namespace) -> int:
    """Register only the localized command menu (polling mode needs no webhook)."""
    settings = get_settings()
    if not settings.telegram.enabled:
        print("telegram.bot_token: set MC_TELEGRAM__BOT_TOKEN first", file=sys.stderr)
        return 2
    try:
        asyncio.run(set_commands(settings))
    except TelegramError as exc:
        print(f"the Bot API refused: {exc.message}", file=sys.stderr)
        return 1
    print(f"commands registered for {', '.join(settings.languages)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``telegram set-webhook`` and ``telegram set-commands``."""
    telegram = sub.add_parser("telegram", help="Telegram channel administration")
    commands = telegram.add_subparsers(dest="telegram_command", required=True)
    webhook = commands.add_parser("set-webhook", help=cmd_set_webhook.__doc__)
    webhook.add_argument("--drop-pending-updates", action="store_true", help="discard updates Telegram holds")
    webhook.set_defaults(handler=cmd_set_webhook)
    commands.add_parser("set-commands", help=cmd_set_commands.__doc__).set_defaults(handler=cmd_set_commands)
