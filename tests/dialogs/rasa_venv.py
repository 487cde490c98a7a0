"""Run a check script of this folder in the Rasa venv (Python 3.10, rasa 3.6) and read its report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.settings import PROJECT_ROOT


def run_check_script(script: Path, *args: str) -> dict[str, str]:
    """{check name: "ok" | failure text}, the last line ``check_report.report`` printed."""
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), str(script), *args],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome
