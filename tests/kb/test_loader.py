"""The knowledge loader: valid folders load; every broken entry is reported with its file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.kb.loader import KnowledgeError, load_knowledge
from bot.settings import SUPPORTED_LANGUAGES

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
LANGS = SUPPORTED_LANGUAGES


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURES, target)
    return target


def _entry(folder: Path, relative: str) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((folder / relative).read_text(encoding="utf-8"))
    return data


def _write(folder: Path, relative: str, data: object) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(folder: Path) -> list[str]:
    return [str(p) for p in load_knowledge(folder, LANGS).problems]


def test_fixture_folder_loads_without_problems(folder: Path) -> None:
    result = load_knowledge(folder, LANGS)
    assert result.problems == []
    assert sorted(e.id for e in result.entries) == ["costs-test-mri", "visa-test-long-term"]
    assert result.paths["costs-test-mri"] == "knowledge/costs/costs-test-mri.yml"


def test_empty_and_missing_folders_load_nothing(tmp_path: Path) -> None:
    assert load_knowledge(tmp_path, LANGS).entries == []
    assert load_knowledge(tmp_path / "absent", LANGS).entries == []


def test_missing_translation_names_file_and_language(folder: Path) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    answer = data["answer"]
    assert isinstance(answer, dict)
    del answer["ru"]
    _write(folder, "visa/visa-test-long-term.yml", data)
    result = load_knowledge(folder, LANGS)
    assert [str(p) for p in result.problems] == [
        "knowledge/visa/visa-test-long-term.yml: answer.ru: missing translation"
    ]
    assert [e.id for e in result.entries] == ["costs-test-mri"]
    assert [e.id for e in result.rejected] == ["visa-test-long-term"]
    with pytest.raises(KnowledgeError, match=r"visa-test-long-term\.yml: answer\.ru"):
        result.raise_for_problems()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(topic="weather"), "topic", "Input should be"),
        (lambda d: d.update(intents=["ask_weather"]), "intents", "unknown intent"),
        (lambda d: d["source"].update(seed="005_invented.txt"), "source.seed", "Input should be"),
        (lambda d: d.pop("reviewed"), "reviewed", "Field required"),
        (lambda d: d.update(reviewed="yesterday"), "reviewed", "date"),
        (lambda d: d.update(questions=[]), "questions", "at least 1"),
        (lambda d: d.update(colour="blue"), "colour", "Extra inputs"),
        (lambda d: d.update(id="Visa_Test"), "id", "lowercase"),
        (lambda d: d["answer"].update(fr="Visa S1."), "answer", "unsupported language"),
        (lambda d: d["answer"].update(en="Costs {price}."), "answer.en", "not defined under amounts"),
        (lambda d: d["answer"].update(zh="  "), "answer.zh", "empty"),
    ],
)
def test_broken_entry_error_names_file_and_field(folder: Path, change: object, field: str, message: str) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    assert callable(change)
    change(data)
    _write(folder, "visa/visa-test-long-term.yml", data)
    problems = _problems(folder)
    assert len(problems) == 1, problems
    prefix = f"knowledge/visa/visa-test-long-term.yml: {field}: "
    assert problems[0].startswith(prefix), problems[0]
    assert message in problems[0]


def test_id_must_equal_file_name(folder: Path) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    _write(folder, "visa/visa-other-name.yml", data)
    problems = _problems(folder)
    assert problems == ["knowledge/visa/visa-other-name.yml: id: 'visa-test-long-term' must equal the file name "
                        "'visa-other-name'"]


def test_topic_must_match_folder(folder: Path) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    (folder / "visa/visa-test-long-term.yml").unlink()
    _write(folder, "costs/visa-test-long-term.yml", data)
    assert _problems(folder) == [
        "knowledge/costs/visa-test-long-term.yml: topic: the file must be at knowledge/visa/visa-test-long-term.yml"
    ]


def test_duplicate_ids_are_reported(folder: Path) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    _write(folder, "visa/visa-test-long-term.yaml", data)
    assert _problems(folder) == [
        "knowledge/visa/visa-test-long-term.yml: id: 'visa-test-long-term' is already used by "
        "knowledge/visa/visa-test-long-term.yaml"
    ]


def test_file_that_is_not_a_mapping_is_reported(folder: Path) -> None:
    _write(folder, "visa/visa-list.yml", ["id", "topic"])
    assert _problems(folder) == ["knowledge/visa/visa-list.yml: file: expected a mapping of fields "
                                 "(id, topic, intents, ...)"]


def test_invalid_yaml_is_reported(folder: Path) -> None:
    (folder / "visa" / "broken.yml").write_text("id: [unclosed\n", encoding="utf-8")
    problems = _problems(folder)
    assert len(problems) == 1
    assert problems[0].startswith("knowledge/visa/broken.yml: file: not valid YAML")


def test_only_configured_languages_are_required(folder: Path) -> None:
    data = _entry(folder, "visa/visa-test-long-term.yml")
    answer = data["answer"]
    assert isinstance(answer, dict)
    del answer["ko"]
    _write(folder, "visa/visa-test-long-term.yml", data)
    assert load_knowledge(folder, ("en", "zh")).problems == []
