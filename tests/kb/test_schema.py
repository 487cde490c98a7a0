"""The entry schema stays in step with the intent contract and the seed folder."""

from __future__ import annotations

import re
from pathlib import Path

from bot.kb.schema import KNOWN_INTENTS, SEED_FILES, TOPICS, Source

ROOT = Path(__file__).resolve().parents[2]


def test_known_intents_are_exactly_the_table_of_intents_md() -> None:
    table = (ROOT / "dialogs" / "INTENTS.md").read_text(encoding="utf-8")
    names = set(re.findall(r"^\| ([a-z_]+) \|", table, flags=re.MULTILINE)) - {"intent"}
    assert names == KNOWN_INTENTS


def test_seed_files_are_the_ones_the_source_field_accepts() -> None:
    accepted = set(Source.model_fields["seed"].annotation.__args__)  # type: ignore[union-attr]
    assert accepted == set(SEED_FILES)
    shared = ROOT.parent / "shared" / "seeds"
    if shared.is_dir():
        assert {p.name for p in shared.iterdir()} == set(SEED_FILES)


def test_topics_match_the_readme() -> None:
    readme = (ROOT / "knowledge" / "README.md").read_text(encoding="utf-8")
    for topic in TOPICS:
        assert re.search(rf"\b{topic}\b", readme), topic
