"""Erasure on the production stores: Rasa's tracker in PostgreSQL and the patient's keys in Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from bot.handoff.erasure import erase_patient
from bot.storage.database import Database, sync_url
from tests.conftest import REDIS_TEST_URL, throwaway_postgres_database
from tests.handoff.helpers import make_patient
from tests.handoff.test_erasure import RASA_EVENTS_DDL


@pytest.fixture
def postgres_tracker_store() -> Iterator[str]:
    """A throwaway PostgreSQL database with Rasa's ``events`` table."""
    with throwaway_postgres_database("mc_tracker") as url:
        engine = create_engine(sync_url(url))
        with engine.begin() as connection:
            connection.execute(text(RASA_EVENTS_DDL.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY")))
        engine.dispose()
        yield url


def _events(url: str, sender: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                          {"s": sender}).scalar_one())
    finally:
        engine.dispose()


async def test_erasure_cleans_a_postgresql_tracker_store_and_redis(
    database: Database, postgres_tracker_store: str, tmp_path: Path
) -> None:
    external_id = f"erase-{uuid.uuid4().hex[:8]}"
    patient_id, _conversation_id, sender = await make_patient(database, external_id, "my scan results")
    keeper_id, _, keeper_sender = await make_patient(database, f"keep-{external_id}", "hello")
    engine = create_engine(sync_url(postgres_tracker_store))
    with engine.begin() as connection:
        for who in (sender, sender, keeper_sender):
            connection.execute(text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, 'user', '{}')"),
                               {"s": who})
    engine.dispose()
    redis = Redis.from_url(REDIS_TEST_URL)
    mine = [f"mc:lock:rest:{external_id}:serving", f"mc:rate:rest:{patient_id}:1"]
    theirs = f"mc:lock:rest:keep-{external_id}:serving"
    for key in [*mine, theirs]:
        redis.set(key, 1, ex=120)

    report = await erase_patient(database, patient_id, tracker_store_url=postgres_tracker_store,
                                 redis_url=REDIS_TEST_URL)

    assert report.problems == []
    assert report.tracker_events == 2 and _events(postgres_tracker_store, sender) == 0
    assert _events(postgres_tracker_store, keeper_sender) == 1
    assert report.redis_keys == 2
    assert [redis.exists(key) for key in mine] == [0, 0] and redis.exists(theirs) == 1
    redis.delete(theirs)
    redis.close()
    assert keeper_id != patient_id
