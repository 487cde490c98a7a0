"""Run named checks in the Rasa venv and print one JSON object: {check name: "ok" | failure text}."""

import json
import traceback
from collections.abc import Callable


def report(checks: list, run: Callable[[Callable], object]) -> None:
    """``run(check)`` for every check; a check that raises is reported with its traceback."""
    results = {}
    for check in checks:
        try:
            run(check)
            results[check.__name__] = "ok"
        except Exception:  # reported per check
            results[check.__name__] = traceback.format_exc()
    print(json.dumps(results))
