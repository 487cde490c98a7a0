"""A real stack shared by the end-to-end tests of one session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Action server + Rasa + application on free ports, SQLite under a temporary folder."""
    running = start_stack(Path(tmp_path_factory.mktemp("stack")))
    yield running
    running.stack.stop()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[RunningStack]:
    """A stack of this test's own (for tests that stop or restart its processes)."""
    running = start_stack(tmp_path / "own")
    yield running
    running.stack.stop()


