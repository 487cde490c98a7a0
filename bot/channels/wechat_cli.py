"""``python -m bot wechat push-menu``: publish the configured custom menu to the official account."""

from __future__ import annotations

import argparse
import json

from bot.settings import get_settings


def cmd_push_menu(args: argparse.Namespace) -> int:
    """Build the menu from settings.wechat.menu and send it to WeChat (``menu/create``)."""
    from bot.channels.base import DeliveryError
    from bot.channels.wechat_client import WeChatApi
    from bot.channels.wechat_menu import MenuError, build_menu
    from bot.channels.wechat_session import build_token_storage

    settings = get_settings()
    wechat = settings.wechat
    try:
        menu = build_menu(wechat.menu)
    except MenuError as exc:
        print(f"invalid menu: {exc}")
        return 2
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    if not wechat.enabled or wechat.app_secret is None:
        print("WeChat is not configured: set MC_WECHAT__APP_ID, MC_WECHAT__APP_SECRET and MC_WECHAT__TOKEN")
        return 2
    storage = build_token_storage(settings.redis.url, settings.database_url)
    api = WeChatApi(str(wechat.app_id), wechat.app_secret.get_secret_value(), wechat.api_base_url, storage)
    try:
        api.create_menu(menu)
    except DeliveryError as exc:
        print(f"WeChat refused the menu: {exc}")
        return 1
    finally:
        api.close()
    print(f"menu pushed: {sum(len(b.get('sub_button', [b])) for b in menu['button'])} items")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``wechat push-menu`` to the command line."""
    wechat = sub.add_parser("wechat", help="WeChat official account tools")
    commands = wechat.add_subparsers(dest="wechat_command", required=True)
    push = commands.add_parser("push-menu", help=cmd_push_menu.__doc__)
    push.add_argument("--dry-run", action="store_true", help="print the menu JSON instead of sending it")
    push.set_defaults(handler=cmd_push_menu)
