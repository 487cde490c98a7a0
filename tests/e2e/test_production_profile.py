"""The production profile (config.production.yml): PostgreSQL + Redis, two application workers.

40 concurrent senders plus 10 fast messages from one patient: every message stored once, and the one
patient's replies in the order of the patient's messages, whichever worker received them. Order is the
order of arrival at the application (a fair ticket lock in Redis): a burst 30 ms apart under full load
may be parsed by the two workers in a different order than sent, so the send order itself is checked
with messages 300 ms apart (a fast typist), the reply order with the burst.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.settings import PROJECT_ROOT
from bot.storage.database import sync_url
from tests.conftest import throwaway_postgres_database
from tests.e2e.stack import RunningStack, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def tracker_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for Rasa's tracker store (Rasa takes a plain postgresql:// URL)."""
    with throwaway_postgres_database("mc_tracker") as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def production_stack(tmp_path: Path, postgres_url: str, tracker_database: str) -> Iterator[RunningStack]:
    from tests.conftest import _truncate_all

    _truncate_all(postgres_url)
    running = start_stack(
        tmp_path / "prod",
        database_url=postgres_url,
        workers=2,
        MC_CONFIG_FILE=str(PROJECT_ROOT / "config.production.yml"),
        MC_ENVIRONMENT="production",
        MC_SECRET_KEY=secrets.token_hex(24),
        MC_RASA_TOKEN=secrets.token_hex(24),
        MC_HTTP__HOST="127.0.0.1",
        MC_RASA__TRACKER_STORE_URL=tracker_database,
        MC_RASA__LOCK_STORE_URL="redis://127.0.0.1:6379/13",
        MC_REDIS__URL="redis://127.0.0.1:6379/14",
        MC_RATE_LIMIT_PER_MINUTE="1000",
    )
    yield running
    running.stack.stop()


async def _send_all(url: str, run: str, spacing: float = 0.03) -> None:
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(sender: str, message: str, message_id: str) -> None:
            body = {"sender": sender, "message": message, "metadata": {"message_id": message_id}}
            response = await client.post(f"{url}/webhooks/rest/webhook", json=body)
            assert response.status_code == 200, response.text

        async def fast_patient() -> None:
            tasks = []
            for i in range(10):
                tasks.append(asyncio.create_task(one(f"{run}-fast", f"hello number {i}", f"{run}-fast-{i}")))
                await asyncio.sleep(spacing)
            await asyncio.gather(*tasks)

        senders = [one(f"{run}-s{i}", "hello", f"{run}-s{i}-m") for i in range(40)]
        await asyncio.gather(fast_patient(), *senders)
        # Redelivery of every message: answered from storage, nothing stored twice.
        await asyncio.gather(*(one(f"{run}-s{i}", "hello", f"{run}-s{i}-m") for i in range(40)))


def _stored(postgres_url: str, run: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Inbound (external id, text) of the run in storage order, and the fast patient's replied-to texts."""
    engine = create_engine(sync_url(postgres_url))
    with engine.connect() as connection:
        inbound = connection.execute(text(
            "SELECT external_message_id, text FROM messages WHERE direction = 'INBOUND' "
            "AND external_message_id LIKE :run ORDER BY id"), {"run": f"{run}-%"}).all()
        fast_replies = connection.execute(text(
            "SELECT m.text FROM messages r JOIN messages m ON r.reply_to_id = m.id "
            "WHERE m.external_message_id LIKE :fast ORDER BY r.id"), {"fast": f"{run}-fast-%"}).all()
    engine.dispose()
    return [(str(r[0]), str(r[1])) for r in inbound], [str(r[0]) for r in fast_replies]


def test_two_workers_on_postgresql_and_redis_keep_every_message_once_and_in_order(
    production_stack: RunningStack, postgres_url: str
) -> None:
    burst = uuid.uuid4().hex[:8]
    asyncio.run(_send_all(production_stack.url, burst, spacing=0.03))
    inbound, answered = _stored(postgres_url, burst)
    ids = [external_id for external_id, _ in inbound]
    assert len(ids) == 50 and len(set(ids)) == 50
    fast_stored_order = [text for external_id, text in inbound if external_id.startswith(f"{burst}-fast-")]
    assert answered == fast_stored_order  # each reply follows its own message, none interleaved or lost
    assert sorted(answered) == sorted(f"hello number {i}" for i in range(10))

    # A patient typing one message after another while 40 others write: stored in the order typed. The
    # gap is what a person needs at least; at 0.3 s a loaded 2-core machine sometimes takes longer than
    # the gap to get one request to the patient's lock, and two requests that close are simultaneous.
    typist = uuid.uuid4().hex[:8]
    asyncio.run(_send_all(production_stack.url, typist, spacing=0.6))
    inbound, answered = _stored(postgres_url, typist)
    assert len(inbound) == 50
    sent_order = [f"hello number {i}" for i in range(10)]
    assert [text for external_id, text in inbound if external_id.startswith(f"{typist}-fast-")] == sent_order
    assert answered == sent_order
