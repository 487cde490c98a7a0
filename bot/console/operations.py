"""What a coordinator does to a case, as the console's routes call it.

A thin adapter over the handoff package's case services (``bot.handoff.cases``, which write the audit
events): it checks the user's rights on the case first and, after the transaction committed, announces
the change on the "console" topic so open queue pages refresh the row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.console.access import NotVisible, can_see, can_work
from bot.console.sessions import ConsoleUser
from bot.handoff import cases, patient_replies
from bot.handoff.models import Case, CasePriority, CaseStage, CaseStatus, Coordinator
from bot.runtime import Runtime
from bot.storage.models import Conversation, ConversationMode, Message


class Forbidden(PermissionError):
    """The user may see the case but not do this to it."""


class Conflict(RuntimeError):
    """The case changed in the meantime (claimed by someone else, already closed)."""


@dataclass
class CaseActions:
    """The console's case operations, bound to the application's runtime."""

    runtime: Runtime

    async def _announce(self, case_id: int, action: str) -> None:
        async with self.runtime.database.session() as session:
            case = await session.get(Case, case_id)
        if case is not None:
            await cases.publish_case_event(self.runtime.events, case, action)

    async def _check(self, user: ConsoleUser, case_id: int, need_work: bool = True) -> Case:
        async with self.runtime.database.session() as session:
            case = await session.get(Case, case_id)
        if case is None or not can_see(user, case):
            raise NotVisible(case_id)
        if need_work and not can_work(user, case):
            raise Forbidden("Claim the case first: only its coordinator or an admin may change it.")
        return case

    async def claim(self, user: ConsoleUser, case_id: int) -> bool:
        """Take an unassigned case; of simultaneous claims exactly one wins (one conditional UPDATE)."""
        async with self.runtime.database.session() as session:
            case = await session.get(Case, case_id)
        if case is None:
            raise NotVisible(case_id)
        if case.assignee_id is not None and case.assignee_id != user.id:
            # Said as it is (not 404): a colleague's simultaneous claim must read as "too late".
            raise Conflict("Another coordinator claimed this case first.")
        if case.status in cases.FINISHED_STATUSES:
            raise Conflict("The case is resolved or closed; it cannot be claimed.")
        async with self.runtime.database.session() as session:
            won = await cases.claim_case(session, case_id, user.id)
        if won:
            await self._announce(case_id, "claimed")
        return won

    async def assign(self, user: ConsoleUser, case_id: int, assignee_id: int | None) -> None:
        """Hand a case to an active colleague (its coordinator or an admin may), or back to the queue (None)."""
        await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            if assignee_id is not None:
                query = select(Coordinator.id).where(Coordinator.id == assignee_id, Coordinator.active.is_(True))
                if (await session.execute(query)).first() is None:
                    raise Conflict("There is no active coordinator with this id.")
            await cases.assign_case(session, case_id, assignee_id, user.id)
        await self._announce(case_id, "assigned")

    async def reply(self, user: ConsoleUser, case_id: int, text: str) -> Message:
        """Send a coordinator reply on the patient's own channel (stored, queued in the outbox, announced)."""
        await self._check(user, case_id)
        runtime = self.runtime
        message = await patient_replies.record_coordinator_reply(
            runtime.database, runtime.events, runtime.outbox, case_id, user.id, text
        )
        await self._announce(case_id, "replied")
        return message

    async def return_to_bot(self, user: ConsoleUser, case_id: int) -> None:
        """The bot answers the patient again (the patient is told); the case keeps its coordinator."""
        await self._check(user, case_id)
        runtime = self.runtime
        await patient_replies.return_to_bot(runtime.database, runtime.events, runtime.outbox, case_id, user.id)
        await self._announce(case_id, "returned_to_bot")

    async def set_status(self, user: ConsoleUser, case_id: int, status: CaseStatus) -> None:
        """Change the status; resolving or closing also gives a human-owned conversation back to the bot."""
        case = await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            await cases.set_status(session, case_id, status, user.id)
            conversation = await session.get(Conversation, case.conversation_id)
            human = conversation is not None and conversation.mode is ConversationMode.HUMAN
        if status in cases.FINISHED_STATUSES and human:
            # Otherwise the bot would stay silent to a patient nobody is working with any more.
            runtime = self.runtime
            await patient_replies.return_to_bot(runtime.database, runtime.events, runtime.outbox, case_id, user.id)
        await self._announce(case_id, "status")

    async def set_stage(self, user: ConsoleUser, case_id: int, stage: CaseStage) -> None:
        await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            await cases.set_stage(session, case_id, stage, user.id)
        await self._announce(case_id, "stage")

    async def set_priority(self, user: ConsoleUser, case_id: int, priority: CasePriority) -> None:
        await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            await cases.set_priority(session, case_id, priority, user.id, self.runtime.settings.console)
        await self._announce(case_id, "priority")

    async def set_labels(self, user: ConsoleUser, case_id: int, labels: list[str]) -> None:
        await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            await cases.set_labels(session, case_id, labels, user.id)
        await self._announce(case_id, "labels")

    async def add_note(self, user: ConsoleUser, case_id: int, text: str) -> None:
        """An internal note: stored on the case, never sent to the patient."""
        await self._check(user, case_id)
        async with self.runtime.database.session() as session:
            await cases.add_note(session, case_id, user.id, text)
