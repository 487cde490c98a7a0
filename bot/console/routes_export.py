"""Downloads of a case: patients' attachments and the transcript (JSON, printable HTML)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.console.access import NotVisible, visible_case
from bot.console.deps import ConsoleDep, UserDep, format_time
from bot.console.queries import patient_name, transcript
from bot.handoff.audit import record
from bot.handoff.models import Case, CaseAttachment

router = APIRouter()

# Types a browser could render as a page or run script from: always served as opaque bytes.
ACTIVE_TYPES = ("text/html", "application/xhtml", "image/svg", "text/xml", "application/xml", "text/javascript",
                "application/javascript")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name or 'file'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def safe_content_type(stored: str) -> str:
    lowered = stored.lower().strip()
    if not lowered or lowered.startswith(ACTIVE_TYPES) or "\n" in lowered or "\r" in lowered:
        return "application/octet-stream"
    return stored.strip()


@router.get("/cases/{case_id}/attachments/{attachment_id}")
async def attachment(case_id: int, attachment_id: int, console: ConsoleDep, user: UserDep) -> Response:
    """A patient's file, always as a download (never rendered inline)."""
    async with console.runtime.database.session() as session:
        case = await visible_case(session, user, case_id)
        file = (await session.execute(
            select(CaseAttachment).where(CaseAttachment.id == attachment_id, CaseAttachment.case_id == case.id)
        )).scalar_one_or_none()
        if file is None:
            raise NotVisible(attachment_id)
        record(session, "attachment_downloaded", user.id, case.number, {"attachment_id": file.id})
    headers = {
        "Content-Disposition": content_disposition(file.filename),
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(file.data, media_type=safe_content_type(file.content_type), headers=headers)


async def _export(console: ConsoleDep, user: UserDep, case_id: int, kind: str) -> tuple[Case, list[Any]]:
    async with console.runtime.database.session() as session:
        case = await visible_case(session, user, case_id, selectinload(Case.patient), selectinload(Case.assignee))
        messages = await transcript(session, case.conversation_id)
        record(session, "transcript_exported", user.id, case.number, {"format": kind})
    return case, messages


@router.get("/cases/{case_id}/transcript.json")
async def transcript_json(case_id: int, console: ConsoleDep, user: UserDep) -> Response:
    case, messages = await _export(console, user, case_id, "json")
    body = {
        "case": {
            "number": case.number,
            "status": case.status.value,
            "stage": case.stage.value,
            "priority": case.priority.value,
            "labels": case.labels,
            "channel": case.channel,
            "language": case.language,
            "assignee": case.assignee.display_name if case.assignee else None,
            "created_at": format_time(case.created_at),
            "intake": case.intake,
        },
        "messages": [
            {
                "id": m.id,
                "at": format_time(m.created_at),
                "direction": m.direction.value,
                "author": m.author.value,
                "text": m.text,
                "buttons": [b.get("title") for b in m.buttons or []],
            }
            for m in messages
        ],
    }
    filename = f"{case.number or f'case-{case.id}'}-transcript.json"
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2), media_type="application/json",
        headers={"Content-Disposition": content_disposition(filename)},
    )


@router.get("/cases/{case_id}/transcript.html")
async def transcript_html(request: Request, case_id: int, console: ConsoleDep, user: UserDep) -> Response:
    """A readable transcript with print styles (the browser saves it as PDF)."""
    case, messages = await _export(console, user, case_id, "html")
    intake = case.intake if isinstance(case.intake, dict) else {}
    return console.render(request, "transcript.html", user, case=case, messages=messages,
                          name=patient_name(case), intake=list(intake.items()))
