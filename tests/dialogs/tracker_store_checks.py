"""Checks of dialogs/rasa_addons/tracker_store.py, run by the Rasa venv (Python 3.10, rasa 3.6).

    .venv-rasa/bin/python tests/dialogs/tracker_store_checks.py DATABASE_URL
prints one JSON object: {check name: "ok" | failure text}. tests/dialogs/test_tracker_store.py runs it.
"""

import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dialogs"))

import sqlalchemy as sa
from check_report import report
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa_addons.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  language: {type: text, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: hi}]
"""
)


def store_kwargs(url: str) -> dict:
    """The tracker store arguments for sqlite:///PATH or postgresql://USER@HOST:PORT/DB."""
    if url.startswith("sqlite:///"):
        return {"dialect": "sqlite", "db": url[len("sqlite:///"):]}
    parts = urlsplit(url)
    return {"dialect": "postgresql", "host": parts.hostname, "port": parts.port or 5432,
            "db": parts.path.lstrip("/"), "username": parts.username}


def turn(text: str) -> list:
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered(text.upper()),
        SlotSet("language", "en"),
        ActionExecuted("action_listen"),
    ]


def dicts(tracker) -> list:
    return [event.as_dict() for event in tracker.events] if tracker is not None else []


async def saved_tracker_is_reused_and_matches_rasas_own_store(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("a")
    for n in range(3):
        tracker = await store.retrieve("a")
        tracker.update_with_events(turn(f"hello {n}"), DOMAIN)
        await store.save(tracker)
    hits = store.hits
    again = await store.retrieve("a")
    assert again is tracker, "the saved tracker was rebuilt although the database did not change"
    assert store.hits == hits + 1
    plain = SQLTrackerStore(DOMAIN, **new.kwargs)
    assert dicts(await plain.retrieve("a")) == dicts(again), "rows differ from what Rasa's own store reads"


async def unsaved_changes_are_not_handed_out(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("b")
    tracker.update_with_events(turn("kept"), DOMAIN)
    await store.save(tracker)
    tracker.update_with_events(turn("lost in a failed turn"), DOMAIN)
    again = await store.retrieve("b")
    assert again is not tracker
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["kept"]


async def another_instances_writes_are_seen(new) -> None:
    first, second = new(), new()
    tracker = await first.get_or_create_tracker("c")
    tracker.update_with_events(turn("from first"), DOMAIN)
    await first.save(tracker)
    other = await second.retrieve("c")
    other.update_with_events(turn("from second"), DOMAIN)
    await second.save(other)
    seen = await first.retrieve("c")
    assert [e.text for e in seen.events if isinstance(e, UserUttered)] == ["from first", "from second"]
    seen.update_with_events(turn("first again"), DOMAIN)
    await first.save(seen)
    plain = SQLTrackerStore(DOMAIN, **new.kwargs)
    texts = [e.text for e in (await plain.retrieve("c")).events if isinstance(e, UserUttered)]
    assert texts == ["from first", "from second", "first again"], texts


async def another_instances_turns_are_replayed_onto_the_kept_tracker(new) -> None:
    first, second = new(), new()
    tracker = await first.get_or_create_tracker("c2")
    for n in range(3):
        tracker.update_with_events(turn(f"first {n}"), DOMAIN)
        await first.save(tracker)
    other = await second.retrieve("c2")
    other.update_with_events(turn("from second"), DOMAIN)
    await second.save(other)
    misses = first.misses
    seen = await first.retrieve("c2")
    assert seen is tracker, "the kept tracker was rebuilt instead of brought up to date"
    assert (first.misses, first.catch_ups) == (misses, 1)
    plain = SQLTrackerStore(DOMAIN, **new.kwargs)
    assert dicts(seen) == dicts(await plain.retrieve("c2")), "the caught-up tracker differs from a full load"
    seen.update_with_events(turn("first again"), DOMAIN)
    await first.save(seen)
    assert await first.retrieve("c2") is seen
    back = await second.retrieve("c2")
    assert back is other and dicts(back) == dicts(await plain.retrieve("c2"))


async def a_new_session_from_another_instance_is_loaded_in_full(new) -> None:
    first, second = new(), new()
    tracker = await first.get_or_create_tracker("c3")
    tracker.update_with_events(turn("old session"), DOMAIN)
    await first.save(tracker)
    other = await second.retrieve("c3")
    other.update_with_events([ActionExecuted("action_session_start"), SessionStarted()], DOMAIN)
    other.update_with_events(turn("new session"), DOMAIN)
    await second.save(other)
    seen = await first.retrieve("c3")
    assert first.catch_ups == 0 and seen is not tracker
    assert [e.text for e in seen.events if isinstance(e, UserUttered)] == ["new session"]


async def erased_rows_are_not_brought_back(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("d")
    tracker.update_with_events(turn("secret"), DOMAIN)
    await store.save(tracker)
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'd'"))
    assert await store.retrieve("d") is None


async def a_new_session_hands_out_only_its_events(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("e")
    tracker.update_with_events(turn("old session"), DOMAIN)
    await store.save(tracker)
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted()], DOMAIN)
    tracker.update_with_events(turn("new session"), DOMAIN)
    await store.save(tracker)
    again = await store.retrieve("e")
    plain = SQLTrackerStore(DOMAIN, **new.kwargs)
    assert dicts(again) == dicts(await plain.retrieve("e"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["new session"]


async def only_cache_size_conversations_are_kept(new) -> None:
    store = new(cache_size=2)
    for sender in ("f1", "f2", "f3"):
        tracker = await store.get_or_create_tracker(sender)
        tracker.update_with_events(turn(sender), DOMAIN)
        await store.save(tracker)
    assert list(store._saved) == ["f2", "f3"]
    misses = store.misses
    assert [e.text for e in (await store.retrieve("f1")).events if isinstance(e, UserUttered)] == ["f1"]
    assert store.misses == misses + 1


async def a_long_new_tracker_is_written_in_batches(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("h")
    for n in range(230):  # 5 events a turn: 1150 rows, three INSERT statements
        tracker.update_with_events(turn(f"h{n}"), DOMAIN)
    store._saved.clear()  # not kept: the whole tracker is written as Rasa's store would
    await store.save(tracker)
    with store.session_scope() as session:
        rows, last = store._row_state(session, "h")
        assert (rows, last) == (store._saved["h"].rows, store._saved["h"].last_row_id)
    plain = SQLTrackerStore(DOMAIN, **new.kwargs)
    assert dicts(await plain.retrieve("h")) == dicts(tracker)
    tracker.update_with_events(turn("after"), DOMAIN)
    await store.save(tracker)
    assert await store.retrieve("h") is tracker, "the kept tracker's last row id did not match the database"


async def turns_reuse_one_database_connection(new) -> None:
    store = new()
    connects = []
    sa.event.listen(store.engine, "connect", lambda *_: connects.append(1))
    for n in range(3):
        tracker = await store.get_or_create_tracker("g")
        tracker.update_with_events(turn(f"g{n}"), DOMAIN)
        await store.save(tracker)
    assert len(connects) <= 1, f"{len(connects)} connections opened for three turns"
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


async def database_work_leaves_the_event_loop_free(new) -> None:
    store = new()
    tracker = await store.get_or_create_tracker("i")
    tracker.update_with_events(turn("i"), DOMAIN)
    insert, row_state = store._insert, store._row_state
    store._insert = lambda session, values: (time.sleep(0.3), insert(session, values))[1]
    store._row_state = lambda session, sender: (time.sleep(0.3), row_state(session, sender))[1]
    ticks = []

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.01)
            ticks.append(1)

    task = asyncio.create_task(ticker())
    await store.save(tracker)
    during_save = len(ticks)
    assert await store.retrieve("i") is tracker
    task.cancel()
    assert during_save >= 10, f"the event loop ran {during_save} times during a 0.3 s save"
    assert len(ticks) - during_save >= 10, f"the event loop ran {len(ticks) - during_save} times in a 0.3 s retrieve"


CHECKS = [
    saved_tracker_is_reused_and_matches_rasas_own_store,
    unsaved_changes_are_not_handed_out,
    another_instances_writes_are_seen,
    another_instances_turns_are_replayed_onto_the_kept_tracker,
    a_new_session_from_another_instance_is_loaded_in_full,
    erased_rows_are_not_brought_back,
    a_new_session_hands_out_only_its_events,
    only_cache_size_conversations_are_kept,
    turns_reuse_one_database_connection,
    a_long_new_tracker_is_written_in_batches,
    database_work_leaves_the_event_loop_free,
]


def main() -> None:
    kwargs = store_kwargs(sys.argv[1])

    def new(**extra):
        return CachedSQLTrackerStore(DOMAIN, **kwargs, **extra)

    new.kwargs = kwargs
    report(CHECKS, lambda check: asyncio.run(check(new)))


if __name__ == "__main__":
    main()
