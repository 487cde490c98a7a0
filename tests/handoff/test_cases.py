"""Case services on SQLite and PostgreSQL: numbering, opening, the claim race, field changes, status."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.events import InProcessEventBus
from bot.core.outbox import OutboxDispatcher
from bot.handoff import cases, patient_replies
from bot.handoff.models import Case, CaseNote, CasePriority, CaseStage, CaseStatus, CaseTrigger
from bot.storage.database import Database
from bot.storage.models import Conversation, ConversationMode, Patient
from tests.handoff.helpers import SLA, audit_events, make_coordinator, make_patient, open_test_case

INTAKE = {"name": "Anna", "country": "Kazakhstan", "treatment": "knee surgery", "preferred_place": None,
          "travel_window": "March", "contact": "+7 700 000 00 00"}


async def test_numbers_are_year_and_six_digit_id(database: Database) -> None:
    first, _, _ = await make_patient(database, "p1")
    second, _, _ = await make_patient(database, "p2")
    a = await open_test_case(database, first)
    b = await open_test_case(database, second)
    assert re.fullmatch(r"MC-\d{4}-\d{6}", a.number or "")
    assert a.number == f"MC-{a.created_at.year}-{a.id:06d}"
    assert b.number == f"MC-{b.created_at.year}-{b.id:06d}"
    assert a.number != b.number
    assert cases.case_number(123, a.created_at) == f"MC-{a.created_at.year}-000123"


async def test_opening_hands_the_conversation_to_humans(database: Database) -> None:
    patient_id, conversation_id, _ = await make_patient(database)
    case = await open_test_case(database, patient_id)
    assert case.status is CaseStatus.NEW
    assert case.stage is CaseStage.INTAKE
    assert case.trigger is CaseTrigger.REQUEST_HUMAN
    assert case.sla_due_at - case.created_at == timedelta(hours=24)
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.mode is ConversationMode.HUMAN
    events = await audit_events(database)
    assert [(e.action, e.case_number) for e in events] == [("case_opened", case.number)]
    assert events[0].details == {"trigger": "request_human", "priority": "normal", "language": "en"}


async def test_intake_needs_consent(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    with pytest.raises(cases.InvalidCaseInput, match="consent"):
        await open_test_case(database, patient_id, intake=INTAKE)
    async with database.session() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_intake_with_consent_is_cleaned_and_never_audited(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    async with database.session() as session:
        consent_at = await cases.record_consent(session, patient_id)
    case = await open_test_case(database, patient_id, intake={**INTAKE, "treatment": "  knee surgery  ", "extra": "x"},
                       consent_at=consent_at)
    assert case.intake == {**INTAKE, "treatment": "knee surgery"}
    assert case.consent_at == consent_at
    async with database.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.consent_given_at is not None
        assert cases.as_utc(patient.consent_given_at) == consent_at
    for event in await audit_events(database):
        assert "knee" not in str(event.details) and "Anna" not in str(event.details)


async def test_a_second_request_reuses_the_open_case_and_an_emergency_escalates_it(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    first = await open_test_case(database, patient_id)
    again = await open_test_case(database, patient_id, trigger=CaseTrigger.EMERGENCY, priority=CasePriority.URGENT)
    assert again.id == first.id
    assert again.priority is CasePriority.URGENT
    assert cases.as_utc(again.sla_due_at) <= cases.as_utc(again.updated_at) + timedelta(hours=1)
    assert [e.action for e in await audit_events(database)] == ["case_opened", "case_escalated"]


async def test_emergency_case_is_urgent_with_a_short_sla(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    case = await open_test_case(database, patient_id, trigger=CaseTrigger.EMERGENCY, priority=CasePriority.URGENT)
    assert case.sla_due_at - case.created_at == timedelta(hours=1)
    assert case.intake is None and case.consent_at is None


async def test_a_finished_case_is_not_reused(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    coordinator = await make_coordinator(database, "c@example.org")
    first = await open_test_case(database, patient_id)
    async with database.session() as session:
        await cases.set_status(session, first.id, CaseStatus.RESOLVED, coordinator)
        assert await cases.find_open_case(session, patient_id) is None
    second = await open_test_case(database, patient_id)
    assert second.id != first.id


async def test_simultaneous_claims_have_exactly_one_winner(database: Database) -> None:
    coordinators = [await make_coordinator(database, f"c{i}@example.org") for i in range(2)]
    for round_ in range(5):
        patient_id, _, _ = await make_patient(database, f"race-{round_}")
        case = await open_test_case(database, patient_id)

        async def claim(coordinator_id: int, case_id: int = case.id) -> bool:
            async with database.session() as session:
                return await cases.claim_case(session, case_id, coordinator_id)

        results = await asyncio.gather(*(claim(c) for c in coordinators))
        assert sorted(results) == [False, True]
        winner = coordinators[results.index(True)]
        async with database.session() as session:
            assert (await cases.get_case(session, case.id)).assignee_id == winner
    claims = [e for e in await audit_events(database) if e.action == "case_claimed"]
    assert len(claims) == 5


async def test_claiming_an_unknown_case_fails(database: Database) -> None:
    coordinator = await make_coordinator(database, "c@example.org")
    async with database.session() as session:
        with pytest.raises(cases.CaseNotFound):
            await cases.claim_case(session, 999, coordinator)


async def test_field_changes_are_audited_without_content(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    coordinator = await make_coordinator(database, "c@example.org")
    case = await open_test_case(database, patient_id)
    async with database.session() as session:
        await cases.set_stage(session, case.id, CaseStage.VISA_LETTER, coordinator)
        await cases.set_priority(session, case.id, CasePriority.URGENT, coordinator, settings=SLA)
        labelled = await cases.set_labels(session, case.id, [" Visa ", "visa", "VIP  client"], coordinator)
        note = await cases.add_note(session, case.id, coordinator, "Patient mentioned a heart condition")
        assert labelled.labels == ["visa", "vip client"]
        with pytest.raises(cases.InvalidCaseInput, match="labels"):
            await cases.set_labels(session, case.id, ["x" * 40], coordinator)
        with pytest.raises(cases.InvalidCaseInput, match="note"):
            await cases.add_note(session, case.id, coordinator, "  ")
    async with database.session() as session:
        assert (await session.get(CaseNote, note.id)) is not None
    events = await audit_events(database)
    assert [e.action for e in events] == [
        "case_opened", "stage_changed", "priority_changed", "labels_changed", "note_added"
    ]
    assert all(e.actor_id == coordinator for e in events[1:])
    assert "heart" not in str([e.details for e in events])


async def test_status_summary_shows_stage_and_whether_a_coordinator_replied(database: Database) -> None:
    patient_id, _, _ = await make_patient(database)
    coordinator = await make_coordinator(database, "c@example.org")
    async with database.session() as session:
        assert await cases.status_summary(session, patient_id) is None
    case = await open_test_case(database, patient_id)
    async with database.session() as session:
        summary = await cases.status_summary(session, patient_id)
    assert summary is not None and summary.number == case.number
    assert summary.stage is CaseStage.INTAKE and summary.coordinator_replied is False
    await patient_replies.record_coordinator_reply(
        database, InProcessEventBus(), OutboxDispatcher(database, {}), case.id, coordinator, "Hi"
    )
    async with database.session() as session:
        summary = await cases.status_summary(session, patient_id)
    assert summary is not None and summary.coordinator_replied is True and summary.status is CaseStatus.OPEN
