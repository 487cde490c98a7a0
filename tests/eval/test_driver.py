"""The evaluation driver's scoring, on a small fixture with a fake REST channel (no stack needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.eval.driver import (
    EvalSet,
    Question,
    load_eval_set,
    load_eval_sets,
    predicted_label,
    score,
    table,
    write_report,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_fixture_sets_load() -> None:
    sets = load_eval_sets(FIXTURES)
    assert [s.language for s in sets] == ["en", "ru"]
    assert sets[0].questions[0].intent == "ask_visa_companion"


def test_malformed_set_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xx.yml"
    path.write_text("language: xx\nquestions:\n  - text: hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"questions\[1\] needs 'text' and 'intent'"):
        load_eval_set(path)


@pytest.mark.parametrize(
    ("replies", "label"),
    [
        ([{"text": "a", "custom": {"intent": "ask_payment", "kb_id": "payment-methods"}}], "ask_payment"),
        ([{"text": "120", "custom": {"intent": "emergency", "emergency": True}},
          {"text": "case", "custom": {"intent": "emergency"}}], "emergency"),
        ([{"text": "?", "custom": {"intent": "nlu_fallback", "fallback": True}}], "out_of_scope"),
        ([{"text": "no markers"}], "none"),
        ([], "none"),
    ],
)
def test_prediction_is_read_from_reply_markers(replies: list[dict[str, Any]], label: str) -> None:
    assert predicted_label(replies) == label


def test_scores_count_hits_misses_and_fallbacks(tmp_path: Path) -> None:
    answers = {
        "q-visa": [{"custom": {"intent": "ask_visa_companion"}}],
        "q-pay": [{"custom": {"intent": "ask_costs"}}],
        "q-off-1": [{"custom": {"intent": "out_of_scope", "fallback": True}}],
        "q-off-2": [{"custom": {"intent": "ask_boao"}}],
    }
    senders: list[str] = []

    def fake_say(sender: str, text: str) -> list[dict[str, Any]]:
        senders.append(sender)
        return answers[text]

    eval_set = EvalSet("en", [Question("q-visa", "ask_visa_companion"), Question("q-pay", "ask_payment"),
                              Question("q-off-1", "out_of_scope"), Question("q-off-2", "out_of_scope")])
    result = score(eval_set, fake_say)
    assert (result.in_scope, result.in_scope_correct, result.out_of_scope, result.fell_back) == (2, 1, 2, 1)
    assert result.accuracy == 0.5
    assert result.fallback_rate == 0.5
    assert not result.passed
    assert len(set(senders)) == 4, "every question needs a fresh sender"
    assert ("ask_payment", "ask_costs", "q-pay") in result.misses
    assert "| en | 2 | 1 | 50.0% | 2 | 1 | 50.0% | NO |" in table([result])
    report = write_report([result], tmp_path)
    assert "q-pay" in report.read_text(encoding="utf-8")
    assert (tmp_path / "eval.json").exists()
