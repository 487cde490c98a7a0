"""Lookup of knowledge entries by id, intent and topic, and the process-wide index the actions use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.kb.loader import LoadResult, entry_files, load_knowledge
from bot.kb.schema import KnowledgeEntry

logger = logging.getLogger(__name__)


class KnowledgeIndex:
    """Entries by id, and by the intents they answer (the most specific entry first)."""

    def __init__(self, entries: Iterable[KnowledgeEntry]) -> None:
        self._by_id: dict[str, KnowledgeEntry] = {}
        for entry in entries:
            if entry.id in self._by_id:
                raise ValueError(f"duplicate knowledge id {entry.id!r}")
            self._by_id[entry.id] = entry

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    @property
    def entries(self) -> list[KnowledgeEntry]:
        return list(self._by_id.values())

    def get(self, entry_id: str) -> KnowledgeEntry | None:
        return self._by_id.get(entry_id)

    def for_intent(self, intent: str, topics: Sequence[str] | None = None) -> list[KnowledgeEntry]:
        """Entries answering ``intent``: those naming it first in their intents, then narrower ones, then by id."""
        matches = [
            e for e in self._by_id.values()
            if intent in e.intents and (topics is None or e.topic in topics)
        ]
        return sorted(matches, key=lambda e: (e.intents.index(intent), len(e.intents), e.id))

    def for_topic(self, topic: str) -> list[KnowledgeEntry]:
        return sorted((e for e in self._by_id.values() if e.topic == topic), key=lambda e: e.id)


class _Cache:
    """Reloads the folder when its files change, keeping the last good entries (entries arrive while we run).

    The folder is looked at (a stat of every file) at most once per ``check_interval`` seconds, not on
    every answer.
    """

    def __init__(self, check_interval: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[object, ...] | None = None
        self._index = KnowledgeIndex([])
        self._result = LoadResult()
        self._check_interval = check_interval
        self._clock = clock
        self._checked: tuple[Path, tuple[str, ...], float] | None = None

    def get(self, directory: Path, languages: tuple[str, ...]) -> KnowledgeIndex:
        now = self._clock()
        checked = self._checked
        if checked is not None and checked[:2] == (directory, languages) and now - checked[2] < self._check_interval:
            return self._index
        signature = _signature(directory, languages)
        with self._lock:
            self._checked = (directory, languages, now)
            if signature != self._signature:
                result = load_knowledge(directory, languages)
                for problem in result.problems:
                    logger.warning("knowledge entry skipped: %s", problem)
                self._index = KnowledgeIndex(result.entries)
                self._result = result
                self._signature = signature
            return self._index


def _signature(directory: Path, languages: tuple[str, ...]) -> tuple[object, ...]:
    files = []
    for path in entry_files(directory):
        try:
            stat = path.stat()
        except OSError:
            continue
        files.append((str(path), stat.st_mtime_ns, stat.st_size))
    return (str(directory), languages, tuple(files))


_CACHE = _Cache()


def current_index() -> KnowledgeIndex:
    """The knowledge of the configured folder, reloaded when a file changes (invalid entries skipped)."""
    from bot.settings import get_settings

    settings = get_settings()
    return _CACHE.get(settings.path(settings.knowledge_dir), tuple(settings.languages))
