"""Case actions that talk to the patient: a coordinator's reply, and handing the conversation back to the bot.

Each stores the message, queues it in the outbox for the patient's own channel and publishes it
(``bot.core.replies.send_to_patient``), then updates the case and conversation and writes the audit
event, in transactions of its own.
"""

from __future__ import annotations

from bot.core.events import EventBus
from bot.core.messages import OutboundMessage
from bot.core.outbox import OutboxDispatcher
from bot.core.replies import send_to_patient
from bot.handoff import patient_texts
from bot.handoff.audit import record
from bot.handoff.cases import MAX_REPLY_CHARS, CaseFinished, InvalidCaseInput, get_case
from bot.handoff.models import CaseStatus
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, ConversationMode, Message, Patient, utcnow


async def record_coordinator_reply(
    database: Database,
    events: EventBus,
    outbox: OutboxDispatcher,
    case_id: int,
    coordinator_id: int,
    text: str,
) -> Message:
    """Send a coordinator's reply to the patient through their own channel and record it on the case.

    The reply is stored, queued in the outbox and published (``bot.core.replies.send_to_patient``).
    The case gets status ``open`` and, on the first reply, ``first_response_at``; an unassigned case
    is assigned to the replying coordinator; the conversation is (again) owned by humans, so the bot
    stays silent. Raises :class:`CaseNotFound`, :class:`CaseFinished` (closed case) or
    :class:`InvalidCaseInput` (empty or too long text).
    """
    body = text.strip()
    if not body:
        raise InvalidCaseInput("reply: must not be empty")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidCaseInput(f"reply: at most {MAX_REPLY_CHARS} characters")
    async with database.session() as session:
        case = await get_case(session, case_id)
        if case.status is CaseStatus.CLOSED:
            raise CaseFinished(f"case {case.number} is closed")
        conversation_id = case.conversation_id
    message = await send_to_patient(database, events, outbox, conversation_id, OutboundMessage(text=body))
    async with database.session() as session:
        case = await get_case(session, case_id)
        now = utcnow()
        first = case.first_response_at is None
        if first:
            case.first_response_at = now
        if case.assignee_id is None:
            case.assignee_id = coordinator_id
            record(session, "case_claimed", actor_id=coordinator_id, case_number=case.number)
        case.status = CaseStatus.OPEN
        case.resolved_at = None
        case.updated_at = now
        conversation = await session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.mode = ConversationMode.HUMAN
        record(session, "reply_sent", actor_id=coordinator_id, case_number=case.number,
               details={"message_id": message.id, "first_response": first})
    return message


async def return_to_bot(
    database: Database,
    events: EventBus,
    outbox: OutboxDispatcher,
    case_id: int,
    actor_id: int | None,
) -> Message:
    """Hand the conversation back to the bot and tell the patient so, in their language.

    The case keeps its status (resolve or close it separately); the patient can ask for a coordinator
    again at any time, which reopens human ownership on the same unfinished case.
    """
    async with database.session() as session:
        case = await get_case(session, case_id)
        conversation = await session.get(Conversation, case.conversation_id)
        patient = await session.get(Patient, case.patient_id)
        assert conversation is not None and patient is not None  # foreign keys
        conversation.mode = ConversationMode.BOT
        conversation.fallback_streak = 0
        case.updated_at = utcnow()
        language = patient.language or case.language
        record(session, "returned_to_bot", actor_id=actor_id, case_number=case.number)
        conversation_id, number = conversation.id, case.number
    notice = OutboundMessage(
        text=patient_texts.returned_to_bot(language),
        custom={"handoff": "returned_to_bot", "case_number": number},
    )
    return await send_to_patient(database, events, outbox, conversation_id, notice, author=Author.SYSTEM)
