"""``python -m bot retention``: delete closed cases and transcripts past the retention period."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.observability.retention import purge_closed_cases
from bot.settings import get_settings
from bot.storage.database import Database


def cmd_retention(args: argparse.Namespace) -> int:
    """Delete closed cases (and their transcripts) closed more than N days ago."""
    settings = get_settings()
    days = args.days or settings.retention_days
    if days is None:
        print("no retention period: set retention_days in config.yml (or MC_RETENTION_DAYS) or pass --days")
        return 2

    async def run() -> Any:
        database = Database(settings.database_url)
        try:
            return await purge_closed_cases(database, days)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    print(f"deleted {report.cases} closed case(s) and {report.messages} message(s) older than {days} days")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("retention", help=cmd_retention.__doc__)
    parser.add_argument("--days", type=int, default=None, help="override retention_days")
    parser.set_defaults(handler=cmd_retention)
