"""The application is killed (SIGKILL) in the middle of an intake: on restart the form resumes where it was,
and a coordinator reply queued before the crash is delivered exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.core.events import InProcessEventBus
from bot.core.messages import OutboundMessage
from bot.core.outbox import OutboxDispatcher
from bot.core.replies import send_to_patient
from bot.storage.database import Database
from bot.storage.models import Conversation, OutboxItem, OutboxStatus, Patient
from tests.e2e.stack import RunningStack
from tests.e2e.test_handoff_flow import handoff_markers

pytestmark = pytest.mark.e2e


def test_intake_resumes_after_the_app_is_killed(own_stack: RunningStack) -> None:
    sender = "crash-intake"
    assert handoff_markers(own_stack.say(sender, "/request_human")) == ["consent_requested"]
    questions = own_stack.say(sender, "/affirm")
    assert questions[-1]["custom"]["field"] == "name"
    after_name = own_stack.say(sender, "Olga")
    assert after_name[-1]["custom"]["field"] == "country"

    own_stack.stack.processes["app"].kill()
    own_stack.stack.start(("app",))

    resumed = own_stack.say(sender, "Kazakhstan")
    assert resumed[-1]["custom"]["field"] == "treatment", resumed
    replies = resumed
    for answer in ("hip surgery", "skip", "next month", "olga@example.org"):
        replies = own_stack.say(sender, answer)
    assert handoff_markers(replies) == ["case_opened"], replies


def test_a_reply_queued_before_a_crash_is_delivered_once_after_restart(own_stack: RunningStack) -> None:
    own_stack.say("crash-outbox", "hello")
    own_stack.stack.processes["app"].kill()

    async def queue_reply() -> int:
        database = Database(own_stack.settings.database_url)
        try:
            async with database.session() as session:
                patient = (await session.execute(select(Patient).where(Patient.external_id == "crash-outbox"))
                           ).scalar_one()
                conversation = (await session.execute(
                    select(Conversation).where(Conversation.patient_id == patient.id))).scalar_one()
            message = await send_to_patient(database, InProcessEventBus(), OutboxDispatcher(database, {}),
                                            conversation.id, OutboundMessage(text="Your appointment is booked"))
            return message.id
        finally:
            await database.dispose()

    async def outbox_state(message_id: int) -> tuple[OutboxStatus, int]:
        database = Database(own_stack.settings.database_url)
        try:
            async with database.session() as session:
                item = (await session.execute(select(OutboxItem).where(OutboxItem.message_id == message_id))
                        ).scalar_one()
                return item.status, item.attempts
        finally:
            await database.dispose()

    message_id = asyncio.run(queue_reply())
    assert asyncio.run(outbox_state(message_id)) == (OutboxStatus.PENDING, 0)
    own_stack.stack.start(("app",))
    for _ in range(40):
        if asyncio.run(outbox_state(message_id))[0] is OutboxStatus.SENT:
            break
        asyncio.run(asyncio.sleep(0.25))
    assert asyncio.run(outbox_state(message_id)) == (OutboxStatus.SENT, 1)
