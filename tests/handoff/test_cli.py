"""``python -m bot erase`` as an operator runs it, against the configured databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.handoff.models import AuditEvent
from bot.storage.database import Database
from bot.storage.models import Patient
from tests.e2e.stack import free_port
from tests.handoff.helpers import make_patient
from tests.handoff.test_erasure import _full_patient, rasa_tracker_store, tracker_rows

ROOT = Path(__file__).resolve().parents[2]


def run_cli(database_url: str, tracker_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MC_ENVIRONMENT": "test",
        "MC_DATABASE__URL": database_url,
        "MC_RASA__TRACKER_STORE_URL": tracker_url,
        "MC_RASA__PORT": str(free_port()),  # nobody listens: Rasa is "down"
    }
    return subprocess.run([sys.executable, "-m", "bot", "erase", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


async def test_erase_by_channel_and_external_id(database: Database, database_url: str, tmp_path: Path) -> None:
    _, sender, number = await _full_patient(database, "cli-patient")
    await make_patient(database, "someone-else")
    store = tmp_path / "tracker.db"
    tracker_url = rasa_tracker_store(store, {sender: 5})
    result = run_cli(database_url, tracker_url, "--channel", "rest", "--external-id", "cli-patient")
    assert result.returncode == 0, result.stderr
    assert number in result.stdout and "5 stored events deleted" in result.stdout
    assert "Rasa API reset failed" in result.stderr
    assert tracker_rows(store, sender) == 0
    async with database.session() as session:
        remaining = (await session.execute(select(Patient.external_id))).scalars().all()
        erased = (await session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "patient_erased")
        )).scalar_one()
    assert remaining == ["someone-else"]
    assert erased == 1


async def test_erase_by_case_number_and_argument_errors(database: Database, database_url: str,
                                                        tmp_path: Path) -> None:
    _, _, number = await _full_patient(database, "by-case")
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    assert run_cli(database_url, tracker_url, "--channel", "rest").returncode == 2
    assert run_cli(database_url, tracker_url, "--case", number, "--channel", "rest").returncode == 2
    missing = run_cli(database_url, tracker_url, "--case", "MC-1999-000001")
    assert missing.returncode == 1 and "no case" in missing.stderr
    assert run_cli(database_url, tracker_url, "--case", number).returncode == 0
    async with database.session() as session:
        assert (await session.execute(select(func.count()).select_from(Patient))).scalar_one() == 0
