"""``python -m bot create-admin --email … [--name …]``: the first console admin (or another one)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from bot.console.coordinators import AccountError, create_coordinator
from bot.console.security import WeakPassword, check_password_strength
from bot.handoff.models import Role
from bot.settings import get_settings

PASSWORD_ENV = "MC_ADMIN_PASSWORD"  # noqa: S105 (the variable name, not a password)


def _password() -> str | None:
    """From MC_ADMIN_PASSWORD, else asked twice on the terminal; None when the two entries differ."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    first = getpass.getpass("Password (12 characters or more): ")
    try:
        check_password_strength(first)
    except WeakPassword:
        return first  # refused with the reason below, before asking again
    second = getpass.getpass("Repeat the password: ")
    return first if first == second else None


async def _create(email: str, name: str, password: str) -> int:
    from bot.storage.database import Database

    settings = get_settings()
    database = Database(settings.database_url)
    try:
        async with database.session() as session:
            coordinator = await create_coordinator(session, email, name, password, Role.ADMIN, None)
            return coordinator.id
    finally:
        await database.dispose()


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create a console admin account (password from a prompt or MC_ADMIN_PASSWORD)."""
    from bot.storage.migrate import upgrade

    password = _password()
    if password is None:
        print("the two passwords differ; nothing created", file=sys.stderr)
        return 1
    try:
        check_password_strength(password)
    except WeakPassword as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    upgrade(get_settings().database_url)  # the console tables must exist; a no-op when up to date
    try:
        coordinator_id = asyncio.run(_create(args.email, args.name or "", password))
    except AccountError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"admin account {args.email.strip().lower()} created (id {coordinator_id}); log in at /console")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("create-admin", help=cmd_create_admin.__doc__)
    parser.add_argument("--email", required=True, help="the admin's e-mail (login name)")
    parser.add_argument("--name", default="", help="display name shown to colleagues")
    parser.set_defaults(handler=cmd_create_admin)
