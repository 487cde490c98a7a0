"""``python -m bot knowledge check``: coverage of the knowledge base per topic and language."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.kb.loader import LoadResult, load_knowledge
from bot.kb.schema import TOPICS


def coverage_table(result: LoadResult, languages: Sequence[str]) -> str:
    """Entries per topic (rows) and language (columns); a language column counts entries answering in it."""
    entries = result.entries + result.rejected
    header = ["topic", "entries", *languages]
    rows: list[list[str]] = []
    for topic in TOPICS:
        in_topic = [e for e in entries if e.topic == topic]
        rows.append([topic, str(len(in_topic)), *(str(sum(1 for e in in_topic if lang in e.answer))
                                                  for lang in languages)])
    rows.append(["total", str(len(entries)),
                 *(str(sum(1 for e in entries if lang in e.answer)) for lang in languages)])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def cmd_knowledge_check(args: argparse.Namespace) -> int:
    """Validate every knowledge entry and print the coverage; exit 1 on any invalid entry or missing translation."""
    from bot.settings import get_settings

    settings = get_settings()
    directory = settings.path(args.directory or settings.knowledge_dir)
    languages = tuple(settings.languages)
    result = load_knowledge(directory, languages)
    print(f"knowledge: {directory}")
    print(coverage_table(result, languages))
    if result.problems:
        print(f"\n{len(result.problems)} problem(s):")
        for problem in result.problems:
            print(f"  {problem}")
        return 1
    print(f"\nok: {len(result.entries)} entries, every one in {', '.join(languages)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``knowledge check`` to the command line."""
    knowledge = sub.add_parser("knowledge", help="knowledge base tools")
    commands = knowledge.add_subparsers(dest="knowledge_command", required=True)
    check = commands.add_parser("check", help=cmd_knowledge_check.__doc__)
    check.add_argument("--directory", help="knowledge folder (default: settings.knowledge_dir)")
    check.set_defaults(handler=cmd_knowledge_check)
