"""Erasure removes one patient everywhere (app database and Rasa's tracker store) and leaves an audit entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.messages import Attachment, InboundMessage, OutboundMessage
from bot.core.outbox import enqueue
from bot.handoff import cases
from bot.handoff.attachments import CaseAttachmentStore
from bot.handoff.erasure import PatientNotFound, erase_patient, find_patient_id
from bot.handoff.models import AuditEvent, Case, CaseAttachment, CaseNote, CaseTrigger
from bot.storage.conversations import outbound_row, record_inbound
from bot.storage.database import Database
from bot.storage.models import Author, Conversation, Message, OutboxItem, Patient, UnansweredQuestion
from tests.handoff.helpers import make_coordinator, make_patient

RASA_EVENTS_DDL = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""


def rasa_tracker_store(path: Path, senders: dict[str, int]) -> str:
    """A SQLite file shaped like Rasa's SQL tracker store, with ``n`` events per sender."""
    with sqlite3.connect(path) as connection:
        connection.execute(RASA_EVENTS_DDL)
        for sender, count in senders.items():
            for i in range(count):
                connection.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (?, 'user', ?, 'request_human', NULL, ?)",
                    (sender, float(i), '{"text": "my knee surgery"}'),
                )
    return f"sqlite:///{path}"


def tracker_rows(path: Path, sender: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


async def _full_patient(database: Database, external_id: str) -> tuple[int, str, str]:
    """A patient with messages, a reply in the outbox, a case with intake, a note, an attachment, a fallback."""
    patient_id, conversation_id, sender = await make_patient(database, external_id, "my knee surgery")
    coordinator = await make_coordinator(database, f"{external_id}@example.org")
    async with database.session() as session:
        consent = await cases.record_consent(session, patient_id)
        case, _ = await cases.open_case(session, patient_id, CaseTrigger.REQUEST_HUMAN, "en",
                                        intake={"treatment": "knee surgery"}, consent_at=consent)
        await cases.add_note(session, case.id, coordinator, "knee history")
        reply = outbound_row(conversation_id, "rest", OutboundMessage(text="hi"), Author.COORDINATOR, None, "en")
        session.add(reply)
        enqueue(session, reply)
        session.add(UnansweredQuestion(patient_id=patient_id, language="en", text="my knee?"))
    async with database.session() as session:
        await record_inbound(session, InboundMessage("rest", external_id, "second message"))
    stored = await CaseAttachmentStore(database, 1024).store(
        patient_id, Attachment("scan.pdf", "application/pdf", b"%PDF-1.4")
    )
    assert stored.stored
    assert case.number is not None
    return patient_id, sender, case.number


async def _count(database: Database, model: type, *where: object) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def test_erasure_removes_everything_of_one_patient_only(database: Database, tmp_path: Path) -> None:
    erased_id, erased_sender, number = await _full_patient(database, "erase-me")
    kept_id, kept_sender, kept_number = await _full_patient(database, "keep-me")
    store = tmp_path / "tracker.db"
    store_url = rasa_tracker_store(store, {erased_sender: 4, kept_sender: 3})
    forgotten: list[str] = []

    async def forget(sender: str) -> None:
        forgotten.append(sender)

    report = await erase_patient(database, erased_id, forget_tracker=forget, tracker_store_url=store_url)

    assert report.case_numbers == [number]
    assert report.messages == 3 and report.attachments == 1 and report.notes == 1
    assert report.tracker_events == 4 and report.tracker_api_reset and report.problems == []
    assert forgotten == [erased_sender]
    assert tracker_rows(store, erased_sender) == 0
    assert tracker_rows(store, kept_sender) == 3
    for model in (Patient, Conversation, Case, UnansweredQuestion):
        assert await _count(database, model) == 1, model
    assert await _count(database, Patient, Patient.id == kept_id) == 1
    assert await _count(database, Case, Case.number == kept_number) == 1
    assert await _count(database, Message) == 3
    assert await _count(database, OutboxItem) == 1
    assert await _count(database, CaseNote) == 1
    assert await _count(database, CaseAttachment) == 1
    async with database.session() as session:
        entry = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "patient_erased")
        )).scalar_one()
        everything = [str(e.details) for e in (await session.execute(select(AuditEvent))).scalars()]
    assert entry.details == {"case_numbers": [number]}
    assert not any("knee" in details for details in everything)


async def test_erasure_still_cleans_the_tracker_store_when_rasa_is_down(database: Database, tmp_path: Path) -> None:
    patient_id, sender, _ = await _full_patient(database, "rasa-down")
    store = tmp_path / "tracker.db"
    store_url = rasa_tracker_store(store, {sender: 2})

    async def forget(_sender: str) -> None:
        raise ConnectionError("refused")

    report = await erase_patient(database, patient_id, forget_tracker=forget, tracker_store_url=store_url)
    assert not report.tracker_api_reset
    assert report.problems and "ConnectionError" in report.problems[0]
    assert tracker_rows(store, sender) == 0
    assert await _count(database, Patient) == 0


async def test_a_tracker_store_without_events_table_is_fine(database: Database, tmp_path: Path) -> None:
    patient_id, _, _ = await make_patient(database)
    report = await erase_patient(database, patient_id, tracker_store_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert report.tracker_events == 0 and report.problems == []
    assert report.case_numbers == []


async def test_patient_lookup_by_channel_or_case(database: Database) -> None:
    patient_id, _, number = await _full_patient(database, "lookup")
    async with database.session() as session:
        assert await find_patient_id(session, channel="rest", external_id="lookup") == patient_id
        assert await find_patient_id(session, case_number=number.lower()) == patient_id
        with pytest.raises(PatientNotFound):
            await find_patient_id(session, channel="telegram", external_id="lookup")
        with pytest.raises(PatientNotFound):
            await find_patient_id(session, case_number="MC-2000-000999")
