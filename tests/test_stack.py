"""The supervisor: the run banner shows this run's demo login; a misconfigured child is refused."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from bot.rasa_project import TRACKER_STORE_MISSING
from bot.stack import Process, demo_login_lines


def test_only_the_login_logged_after_the_offset_is_shown(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    old = json.dumps({"message": "console demo account created (development only): demo@x / old-password"})
    log.write_text(old + "\n")
    offset = log.stat().st_size
    assert demo_login_lines(log, offset) == []
    new = json.dumps({"message": "console demo account created (development only): demo@x / new-password"})
    with log.open("a") as handle:
        handle.write(json.dumps({"message": "channels on: rest"}) + "\n" + new + "\n")
    assert demo_login_lines(log, offset) == ["console demo account created (development only): demo@x / new-password"]
    assert demo_login_lines(tmp_path / "missing.log") == []


def test_a_process_that_logged_its_fatal_line_in_this_start_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text(f"an earlier run: {TRACKER_STORE_MISSING}\n")
    script = f"print({TRACKER_STORE_MISSING!r}, flush=True); import time; time.sleep(30)"
    process = Process("rasa", [sys.executable, "-c", script], {}, log, "http://unused", TRACKER_STORE_MISSING)
    quiet = Process("rasa", [sys.executable, "-c", "import time; time.sleep(30)"], {}, log, "http://unused",
                    TRACKER_STORE_MISSING)
    quiet.start()
    try:
        quiet.check_log()  # the earlier run's line does not count
    finally:
        quiet.stop()
    process.start()
    deadline = time.monotonic() + 10
    while TRACKER_STORE_MISSING not in log.read_text()[len(f"an earlier run: {TRACKER_STORE_MISSING}\n"):]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with pytest.raises(RuntimeError, match="misconfigured"):
        process.check_log()
    assert not process.alive()
