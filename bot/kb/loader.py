"""Load and validate every entry under ``knowledge/``; each problem names the file and the field.

The loader works on an empty or partial folder. :func:`load_knowledge` collects every problem (the
``knowledge check`` command prints them all); :meth:`LoadResult.raise_for_problems` fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.kb.schema import KnowledgeEntry


@dataclass(frozen=True)
class Problem:
    """Why one knowledge file cannot be used."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class KnowledgeError(ValueError):
    """The knowledge folder holds invalid entries; the message lists every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid knowledge:\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass
class LoadResult:
    """The valid entries (by file) and the problems of the invalid ones."""

    entries: list[KnowledgeEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    # Entries that passed the schema but failed a file-level check (e.g. a missing translation):
    # not served, but counted in the coverage report.
    rejected: list[KnowledgeEntry] = field(default_factory=list)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise KnowledgeError(self.problems)


def entry_files(directory: Path) -> list[Path]:
    """Every ``*.yml``/``*.yaml`` file below the knowledge folder, in a stable order."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml"})


def _display(path: Path, directory: Path) -> str:
    try:
        return str(Path(directory.name) / path.relative_to(directory))
    except ValueError:
        return str(path)


def _field_of(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"])
    if location:
        return location
    # Model-level checks put the field at the start of their message ("answer.ru: …").
    message = str(error["msg"]).removeprefix("Value error, ")
    head = message.split(":", 1)[0]
    return head if head and " " not in head else "entry"


def _message_of(error: Any, field_name: str) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.removeprefix(f"{field_name}: ")


def parse_entry(path: Path, directory: Path, languages: tuple[str, ...]) -> tuple[KnowledgeEntry | None, list[Problem]]:
    """Validate one file: YAML, schema, file name, folder and translations.

    Returns the entry whenever it passed the schema (even with file-level problems) and the problems.
    """
    shown = _display(path, directory)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Problem(shown, "file", f"not valid YAML: {exc}".replace("\n", " "))]
    if not isinstance(data, dict):
        return None, [Problem(shown, "file", "expected a mapping of fields (id, topic, intents, ...)")]
    try:
        entry = KnowledgeEntry.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _field_of(error)
            problems.append(Problem(shown, name, _message_of(error, name)))
        return None, problems
    problems = []
    if entry.id != path.stem:
        problems.append(Problem(shown, "id", f"{entry.id!r} must equal the file name {path.stem!r}"))
    relative = path.relative_to(directory)
    if len(relative.parts) != 2 or relative.parts[0] != entry.topic:
        problems.append(Problem(shown, "topic", f"the file must be at knowledge/{entry.topic}/{path.name}"))
    for language in entry.missing_languages(languages):
        problems.append(Problem(shown, f"answer.{language}", "missing translation"))
    return entry, problems


def load_knowledge(directory: Path, languages: tuple[str, ...] | list[str]) -> LoadResult:
    """Load every entry; ids must be unique across the folder."""
    wanted = tuple(languages)
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in entry_files(directory):
        entry, problems = parse_entry(path, directory, wanted)
        result.problems.extend(problems)
        if entry is None:
            continue
        if problems:
            result.rejected.append(entry)
            continue
        shown = _display(path, directory)
        if entry.id in seen:
            result.problems.append(Problem(shown, "id", f"{entry.id!r} is already used by {seen[entry.id]}"))
            continue
        seen[entry.id] = shown
        result.paths[entry.id] = shown
        result.entries.append(entry)
    return result
