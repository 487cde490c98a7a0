"""Patients' files go onto their open case, with a size limit and a type allow-list."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from bot.core.attachments import AttachmentOutcome
from bot.core.messages import Attachment
from bot.handoff.audit import record
from bot.handoff.models import Case, CaseAttachment, CaseStatus
from bot.i18n import N_
from bot.storage.database import Database

ALLOWED_TYPES = frozenset({
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/tiff",
    "application/dicom",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
})
CLOSED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
NO_CASE = N_(
    "Please ask for a coordinator first (write \"human\"); then send your files and they will be added to your case."
)
TOO_LARGE = N_("Sorry, this file is too large. Please send files up to {limit_mb} MB.")
WRONG_TYPE = N_("Sorry, I can only accept PDF files, images and documents (records, reports, scans).")


class CaseAttachmentStore:
    """Implements the core's AttachmentStore on the patient's most recent open case."""

    def __init__(self, database: Database, max_bytes: int) -> None:
        self._db = database
        self._max_bytes = max_bytes

    async def store(self, patient_id: int, attachment: Attachment) -> AttachmentOutcome:
        if len(attachment.data) > self._max_bytes:
            return AttachmentOutcome(False, TOO_LARGE)
        if attachment.content_type.split(";")[0].strip().lower() not in ALLOWED_TYPES:
            return AttachmentOutcome(False, WRONG_TYPE)
        async with self._db.session() as session:
            query = (
                select(Case)
                .where(Case.patient_id == patient_id, Case.status.not_in(CLOSED))
                .order_by(Case.id.desc())
                .limit(1)
            )
            case = (await session.execute(query)).scalar_one_or_none()
            if case is None:
                return AttachmentOutcome(False, NO_CASE)
            session.add(
                CaseAttachment(
                    case_id=case.id,
                    filename=attachment.filename[:255] or "file",
                    content_type=attachment.content_type[:100],
                    size=len(attachment.data),
                    sha256=hashlib.sha256(attachment.data).hexdigest(),
                    data=attachment.data,
                )
            )
            record(session, "attachment_received", case_number=case.number,
                   details={"size": len(attachment.data), "content_type": attachment.content_type[:100]})
        return AttachmentOutcome(True)
