"""The case page and everything a coordinator does on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.console.access import can_work, visible_case
from bot.console.canned import canned_answers
from bot.console.deps import ConsoleDep, PostUserDep, UserDep, redirect
from bot.console.live import conversation_stream
from bot.console.operations import Conflict
from bot.console.queries import is_overdue, patient_name, transcript
from bot.console.routes_queue import SSE_HEADERS
from bot.handoff import cases
from bot.handoff.models import Case, CaseAttachment, CaseNote, CasePriority, CaseStage, CaseStatus, Coordinator
from bot.storage.models import ConversationMode

router = APIRouter()

INTAKE_LABELS = {
    "name": "Name",
    "country": "Country",
    "treatment": "What the treatment is about",
    "preferred_place": "Preferred city / hospital",
    "travel_window": "Travel window",
    "contact": "Best contact",
}
NOTICES = {
    "claimed": "You claimed this case.",
    "taken": "Another coordinator claimed this case first.",
    "sent": "Reply queued for delivery on the patient's channel.",
    "returned": "The bot answers this patient again.",
    "saved": "Saved.",
    "note": "Internal note added (never sent to the patient).",
    "closed": "The case is closed: reopen it to reply.",
    "empty": "Nothing to send.",
}


@router.get("/cases/{case_id}")
async def case_page(
    request: Request, case_id: int, console: ConsoleDep, user: UserDep,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    async with console.runtime.database.session() as session:
        case = await visible_case(
            session, user, case_id,
            selectinload(Case.patient), selectinload(Case.assignee), selectinload(Case.conversation),
            selectinload(Case.attachments).load_only(
                CaseAttachment.id, CaseAttachment.filename, CaseAttachment.content_type, CaseAttachment.size,
                CaseAttachment.created_at,
            ),
        )
        messages = await transcript(session, case.conversation_id)
        notes = list((await session.execute(
            select(CaseNote, Coordinator.display_name)
            .outerjoin(Coordinator, Coordinator.id == CaseNote.author_id)
            .where(CaseNote.case_id == case.id).order_by(CaseNote.id)
        )).all())
        coordinators = list((await session.execute(
            select(Coordinator).where(Coordinator.active.is_(True)).order_by(Coordinator.display_name)
        )).scalars())
    canned = canned_answers(case.language)
    intake = case.intake if isinstance(case.intake, dict) else {}
    return console.render(
        request, "case.html", user,
        case=case, messages=messages, notes=notes, coordinators=coordinators, canned=canned,
        intake=[(INTAKE_LABELS.get(k, k), v) for k, v in intake.items()],
        name=patient_name(case), overdue=is_overdue(case), can_work=can_work(user, case),
        human_mode=case.conversation.mode is ConversationMode.HUMAN,
        statuses=list(CaseStatus), stages=list(CaseStage), priorities=list(CasePriority),
        notice=NOTICES.get(notice, ""), last_id=messages[-1].id if messages else 0,
    )


@router.get("/cases/{case_id}/messages")
async def messages_fragment(
    request: Request, case_id: int, console: ConsoleDep, user: UserDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Transcript items after ``after`` (escaped HTML) for the live case page."""
    async with console.runtime.database.session() as session:
        case = await visible_case(session, user, case_id)
        messages = await transcript(session, case.conversation_id, after)
    return console.render(request, "_messages.html", user, messages=messages)


@router.get("/cases/{case_id}/events")
async def case_events(case_id: int, console: ConsoleDep, user: UserDep) -> StreamingResponse:
    async with console.runtime.database.session() as session:
        await visible_case(session, user, case_id)
    return StreamingResponse(conversation_stream(console.runtime, user, case_id), media_type="text/event-stream",
                             headers=SSE_HEADERS)


@router.post("/cases/{case_id}/claim")
async def claim(case_id: int, console: ConsoleDep, user: PostUserDep) -> Response:
    if await console.actions.claim(user, case_id):
        return redirect(f"/cases/{case_id}?notice=claimed")
    async with console.runtime.database.session() as session:
        still_visible = (await session.execute(
            select(Case.id).where(Case.id == case_id, Case.assignee_id == user.id)
        )).first() is not None
    if still_visible:
        return redirect(f"/cases/{case_id}")
    raise Conflict("Another coordinator claimed this case first.")


@router.post("/cases/{case_id}/assign")
async def assign(
    case_id: int, console: ConsoleDep, user: PostUserDep, assignee_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    target = int(assignee_id) if assignee_id.isdigit() else None
    await console.actions.assign(user, case_id, target)
    # Handing a case to a colleague may take it out of the coordinator's sight.
    return redirect(f"/cases/{case_id}?notice=saved") if user.is_admin or target == user.id else redirect("/queue")


@router.post("/cases/{case_id}/reply")
async def reply(
    case_id: int, console: ConsoleDep, user: PostUserDep,
    text: Annotated[str, Form(max_length=cases.MAX_REPLY_CHARS)] = "",
) -> Response:
    if not text.strip():
        return redirect(f"/cases/{case_id}?notice=empty")
    await console.actions.reply(user, case_id, text.strip())
    return redirect(f"/cases/{case_id}?notice=sent#reply")


@router.post("/cases/{case_id}/return-to-bot")
async def return_to_bot(case_id: int, console: ConsoleDep, user: PostUserDep) -> Response:
    await console.actions.return_to_bot(user, case_id)
    return redirect(f"/cases/{case_id}?notice=returned")


@router.post("/cases/{case_id}/status")
async def set_status(
    case_id: int, console: ConsoleDep, user: PostUserDep, status: Annotated[CaseStatus, Form()],
) -> Response:
    await console.actions.set_status(user, case_id, status)
    return redirect(f"/cases/{case_id}?notice=saved")


@router.post("/cases/{case_id}/stage")
async def set_stage(
    case_id: int, console: ConsoleDep, user: PostUserDep, stage: Annotated[CaseStage, Form()],
) -> Response:
    await console.actions.set_stage(user, case_id, stage)
    return redirect(f"/cases/{case_id}?notice=saved")


@router.post("/cases/{case_id}/priority")
async def set_priority(
    case_id: int, console: ConsoleDep, user: PostUserDep, priority: Annotated[CasePriority, Form()],
) -> Response:
    await console.actions.set_priority(user, case_id, priority)
    return redirect(f"/cases/{case_id}?notice=saved")


@router.post("/cases/{case_id}/labels")
async def set_labels(
    case_id: int, console: ConsoleDep, user: PostUserDep, labels: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    await console.actions.set_labels(user, case_id, labels.split(","))
    return redirect(f"/cases/{case_id}?notice=saved")


@router.post("/cases/{case_id}/notes")
async def add_note(
    case_id: int, console: ConsoleDep, user: PostUserDep,
    text: Annotated[str, Form(max_length=cases.MAX_NOTE_CHARS)] = "",
) -> Response:
    if not text.strip():
        return redirect(f"/cases/{case_id}?notice=empty")
    await console.actions.add_note(user, case_id, text.strip())
    return redirect(f"/cases/{case_id}?notice=note#notes")

