"""The run banner shows the demo console login written by this run only."""

from __future__ import annotations

import json
from pathlib import Path

from bot.stack import demo_login_lines


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
