"""``python -m bot erase``: remove one patient's data everywhere (GDPR/PIPL erasure request)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.handoff.erasure import ErasureReport, PatientNotFound, erase_patient, find_patient_id
from bot.settings import get_settings, resolve_sqlite_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``erase`` sub-command."""
    parser = sub.add_parser(
        "erase",
        help="erase one patient's data everywhere (messages, cases, attachments, Rasa tracker, Redis)",
        description="Erase one patient: by --channel and --external-id, or by one of their case numbers (--case).",
    )
    parser.add_argument("--channel", help="the patient's channel (rest, telegram, wechat, webchat)")
    parser.add_argument("--external-id", help="the patient's id on that channel")
    parser.add_argument("--case", help="a case number of the patient, e.g. MC-2026-000123")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation on a terminal")
    parser.set_defaults(handler=cmd_erase)


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase one patient; exit 0 when done, 1 when not found, 2 on wrong arguments."""
    by_case = args.case is not None and args.channel is None and args.external_id is None
    by_patient = args.case is None and args.channel is not None and args.external_id is not None
    if not (by_case or by_patient):
        print("erase: give either --case, or both --channel and --external-id", file=sys.stderr)
        return 2
    if sys.stdin.isatty() and not args.yes:
        target = args.case or f"{args.external_id} on {args.channel}"
        answer = input(f"Erase all data of {target}? This cannot be undone. Type 'erase' to confirm: ")
        if answer.strip() != "erase":
            print("nothing erased")
            return 1
    try:
        report = asyncio.run(_erase(args))
    except PatientNotFound as exc:
        print(f"erase: {exc}", file=sys.stderr)
        return 1
    print(
        f"erased patient {report.patient_id}: cases {', '.join(report.case_numbers) or 'none'}; "
        f"{report.messages} messages, {report.attachments} attachments, {report.notes} notes; "
        f"Rasa tracker: API reset {'yes' if report.tracker_api_reset else 'no'}, "
        f"{report.tracker_events} stored events deleted; {report.redis_keys} Redis keys deleted"
    )
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


async def _erase(args: argparse.Namespace) -> ErasureReport:
    from bot.core.engine import RasaEngine
    from bot.storage.database import Database

    settings = get_settings()
    database = Database(settings.database_url)
    engine = RasaEngine(settings.rasa.url, settings.rasa_token.get_secret_value(), timeout=5.0)
    try:
        async with database.session() as session:
            patient_id = await find_patient_id(
                session, channel=args.channel, external_id=args.external_id, case_number=args.case
            )
        return await erase_patient(
            database,
            patient_id,
            forget_tracker=engine.forget,
            tracker_store_url=resolve_sqlite_url(settings.rasa.tracker_store_url, settings),
            redis_url=settings.redis.url,
        )
    finally:
        await engine.aclose()
        await database.dispose()
