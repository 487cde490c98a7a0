"""The held-out evaluation through the real stack: intent accuracy ≥ 90 % per language, out-of-scope → fallback ≥ 85 %.

Questions come from ``tests/eval/data/<lang>.yml`` (``MC_EVAL_DATA`` points elsewhere, e.g. at
``tests/eval/fixtures`` to try the driver). Every question goes through the REST channel from a
fresh sender; the figures are printed and written to ``reports/eval.md`` and ``reports/eval.json``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.stack import RunningStack
from tests.eval.driver import (
    MIN_IN_SCOPE_ACCURACY,
    MIN_OUT_OF_SCOPE_FALLBACK,
    LanguageScore,
    load_eval_sets,
    score,
    table,
    write_report,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("MC_EVAL_DATA", Path(__file__).parent / "data"))
REPORTS = ROOT / "reports"
LANGUAGES = sorted(path.stem for path in DATA.glob("*.yml"))


@pytest.fixture(scope="module")
def scores(live_stack: RunningStack) -> dict[str, LanguageScore]:
    sets = load_eval_sets(DATA)
    assert sets, f"no evaluation questions in {DATA}"

    def say(sender: str, text: str) -> list[dict[str, object]]:
        return live_stack.say(sender, text)

    results = [score(eval_set, say) for eval_set in sets]
    report = write_report(results, REPORTS, "eval" if DATA.name == "data" else f"eval-{DATA.name}")
    print("\n" + table(results) + f"\n(report: {report})")
    return {result.language: result for result in results}


def test_evaluation_data_exists() -> None:
    assert LANGUAGES, f"no evaluation questions in {DATA}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_in_scope_intent_accuracy(scores: dict[str, LanguageScore], language: str) -> None:
    result = scores[language]
    assert result.in_scope > 0, f"{language}: no in-scope questions"
    assert result.accuracy >= MIN_IN_SCOPE_ACCURACY, (
        f"{language}: {result.in_scope_correct}/{result.in_scope} = {result.accuracy:.1%}; misses: "
        + "; ".join(f"{e}→{p}: {t}" for e, p, t in result.misses if e != "out_of_scope")
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_out_of_scope_falls_back(scores: dict[str, LanguageScore], language: str) -> None:
    result = scores[language]
    assert result.out_of_scope > 0, f"{language}: no out-of-scope questions"
    assert result.fallback_rate >= MIN_OUT_OF_SCOPE_FALLBACK, (
        f"{language}: {result.fell_back}/{result.out_of_scope} = {result.fallback_rate:.1%}; misses: "
        + "; ".join(f"→{p}: {t}" for e, p, t in result.misses if e == "out_of_scope")
    )
