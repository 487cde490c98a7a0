"""Rasa's SQL tracker store with the latest trackers kept in memory, checked against the database.

Rasa's ``SQLTrackerStore`` rebuilds the whole conversation on every turn: it loads every event row,
parses the JSON, resolves each event class and replays them, so a turn costs more the longer the
conversation is. This store keeps the tracker it last saved for each conversation and hands it back
as long as the database still holds exactly what it saved (same number of rows, same last row id,
and the tracker was not changed since without being saved). When another Rasa instance appended a
turn meanwhile (several instances behind one address take a conversation's turns in turn), only the
new rows are read and replayed onto the kept tracker. Anything else (an erasure deleted rows, a turn
failed half-way, a new session began elsewhere) reloads from the database as Rasa does.
Saving writes only the events appended since the last save, without Rasa's count query.

On SQLite, SQLAlchemy 1.4 (Rasa's) opens a new connection for every session of a file database
(``NullPool``): two or three per turn. This store keeps one connection per thread instead and puts
the file in WAL mode, as the application's own SQLite database is.

Rasa calls its store from the event loop and its SQL store blocks it on every statement (a
PostgreSQL round trip, SQLite's fsync at commit), while the one Rasa process serves every
conversation. This store does its database work on one thread of its own, in arrival order, so the
loop goes on with other conversations meanwhile; Rasa's lock store still keeps one conversation's
turns one after the other.

Configured in endpoints.yml as ``type: rasa_addons.tracker_store.CachedSQLTrackerStore`` with the
same arguments as Rasa's ``SQL`` store, plus ``cache_size`` (conversations kept, default 500: the
ones active right now are what counts, and a long conversation's tracker takes a few hundred kB).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import NullPool, SingletonThreadPool

from rasa_addons.one_thread import OneThread

# Rows per INSERT statement: 6 parameters each stays far below SQLite's 32766 variables.
INSERT_BATCH_ROWS = 500


@dataclass
class _Saved:
    """What the database holds for one conversation after our last save."""

    tracker: DialogueStateTracker
    events_in_tracker: int  # len(tracker.events) when saved: more means changed but not saved
    rows: int  # event rows of this sender in the database (all sessions)
    last_row_id: int | None


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that skips rebuilding a tracker the database confirms is unchanged."""

    def __init__(self, *args: Any, cache_size: int = 500, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and isinstance(self.engine.pool, NullPool):
            self._reuse_sqlite_connections()
        self._cache_size = int(cache_size)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._guard = threading.Lock()
        self._db_thread = OneThread("tracker-store")
        self.hits = 0
        self.catch_ups = 0  # kept trackers brought up to date with another instance's rows
        self.misses = 0

    def _reuse_sqlite_connections(self) -> None:
        """One SQLite connection per thread (Rasa's store runs on the event loop's thread), in WAL mode."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=SingletonThreadPool, **create_engine_kwargs(url))
        sa.event.listen(self.engine, "connect", _sqlite_wal)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _row_state(self, session: Any, sender_id: str) -> tuple[int, int | None]:
        """(number of rows, highest row id) of one sender, from the sender_id index."""
        events = self.SQLEvent.__table__
        query = sa.select([sa.func.count(events.c.id), sa.func.max(events.c.id)]).where(events.c.sender_id == sender_id)
        count, last = session.execute(query).one()
        return int(count), last

    def _insert(self, session: Any, values: list[dict[str, Any]]) -> int:
        """Insert event rows a few hundred per statement (not one ORM object each); the last row's id."""
        events = self.SQLEvent.__table__
        last = 0
        for start in range(0, len(values), INSERT_BATCH_ROWS):
            statement = events.insert().values(values[start : start + INSERT_BATCH_ROWS])
            if self.engine.dialect.name == "sqlite":
                last = int(session.execute(statement).lastrowid)  # the last row of a multi-row INSERT
            else:
                last = max(row[0] for row in session.execute(statement.returning(events.c.id)))
        return last

    def _unchanged(self, saved: _Saved | None, state: tuple[int, int | None]) -> bool:
        return (
            saved is not None
            and (saved.rows, saved.last_row_id) == state
            and len(saved.tracker.events) == saved.events_in_tracker
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: the kept one when the database confirms it, else loaded."""
        state = await self._db_thread.run(self._read_row_state, sender_id)
        with self._guard:
            saved = self._saved.get(sender_id)
            if self._unchanged(saved, state):
                assert saved is not None
                self._saved.move_to_end(sender_id)
                self.hits += 1
                return saved.tracker
            self._saved.pop(sender_id, None)
        if saved is not None and self._only_appended(saved, state):
            caught_up = await self._db_thread.run(self._catch_up, sender_id, saved, state)
            if caught_up is not None:
                self._keep(sender_id, caught_up)
                self.catch_ups += 1
                return caught_up.tracker
        self.misses += 1
        tracker, state = await self._db_thread.run(self._load, sender_id)
        if tracker is not None:
            self._keep(sender_id, _Saved(tracker, len(tracker.events), *state))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the events appended since the last save (Rasa's count query when not kept).

        A kept tracker was confirmed against the database when this turn retrieved it, and Rasa's
        lock store keeps every other writer of the conversation out until this save: no second
        check here. Should the database still differ (rows deleted directly), the next retrieve
        sees it and reloads.
        """
        if self.event_broker is not None:
            await self.stream_events(tracker)
        sender_id = tracker.sender_id
        with self._guard:
            saved = self._saved.get(sender_id)
        kept = saved if saved is not None and saved.tracker is tracker else None
        events = list(tracker.events)
        state, new_session = await self._db_thread.run(self._write, sender_id, events, kept)
        if new_session:
            # A new session began: Rasa's store hands back only its events from now on, so the
            # kept tracker (with the earlier sessions' events) must not be reused.
            with self._guard:
                self._saved.pop(sender_id, None)
            return
        self._keep(sender_id, _Saved(tracker, len(events), *state))

    @staticmethod
    def _only_appended(saved: _Saved, state: tuple[int, int | None]) -> bool:
        """The database may hold the kept tracker's rows plus later ones (another instance's turns)."""
        rows, last_row_id = state
        return (
            len(saved.tracker.events) == saved.events_in_tracker
            and saved.last_row_id is not None
            and last_row_id is not None
            and rows > saved.rows
            and last_row_id > saved.last_row_id
        )

    def _catch_up(self, sender_id: str, saved: _Saved, state: tuple[int, int | None]) -> _Saved | None:
        """The kept tracker with the rows written after it replayed onto it, as a full load would.

        Measured on PostgreSQL, a 100-event conversation: a full load costs 6.4 ms of CPU, a turn's
        five new rows replayed 0.8 ms; with two Rasa workers about every other turn needs one.

        None when those rows are not simply appended (their count does not add up) or begin a new
        session (Rasa then hands out only the new session): the caller loads in full.
        """
        events = self.SQLEvent.__table__
        query = (
            sa.select([events.c.type_name, events.c.data])
            .where(events.c.sender_id == sender_id, events.c.id > saved.last_row_id)
            .order_by(events.c.id)
        )
        with self.session_scope() as session:
            rows = session.execute(query).all()
        if saved.rows + len(rows) != state[0] or any(row.type_name == SessionStarted.type_name for row in rows):
            return None
        tracker = saved.tracker
        for event in deserialise_events([json.loads(row.data) for row in rows]):
            tracker.update(event)
        return _Saved(tracker, len(tracker.events), *state)

    def _read_row_state(self, sender_id: str) -> tuple[int, int | None]:
        with self.session_scope() as session:
            return self._row_state(session, sender_id)

    def _load(self, sender_id: str) -> tuple[DialogueStateTracker | None, tuple[int, int | None]]:
        """The latest session's tracker as Rasa's store builds it, and the row state it was read at."""
        with self.session_scope() as session:
            state = self._row_state(session, sender_id)
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None, state
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots), state

    def _write(
        self, sender_id: str, events: list[Event], kept: _Saved | None
    ) -> tuple[tuple[int, int | None], bool]:
        """Insert the events not yet stored; the new row state and whether a new session began."""
        with self.session_scope() as session:
            if kept is not None:
                start = kept.events_in_tracker
            else:
                start = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            rows = [self._row(sender_id, event.type_name, event.as_dict()) for event in events[start:]]
            last_row_id = self._insert(session, rows) if rows else None
            if kept is not None:
                state = (kept.rows + len(rows), last_row_id if rows else kept.last_row_id)
            else:
                state = self._row_state(session, sender_id)
            session.commit()
        return state, any(row["type_name"] == SessionStarted.type_name for row in rows)

    @staticmethod
    def _row(sender_id: str, type_name: str, data: dict[str, Any]) -> dict[str, Any]:
        """The column values of one event row, as Rasa's store writes them."""
        return {
            "sender_id": sender_id,
            "type_name": type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _keep(self, sender_id: str, saved: _Saved) -> None:
        with self._guard:
            self._saved[sender_id] = saved
            self._saved.move_to_end(sender_id)
            while len(self._saved) > self._cache_size:
                self._saved.popitem(last=False)
