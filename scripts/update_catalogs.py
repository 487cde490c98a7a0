"""Refresh the gettext catalogs: extract ``t(language, "…")`` strings from bot/, merge them into
``locales/<lang>/LC_MESSAGES/messages.po``, fill translations from ``locales/sources/*.yml`` and
report what is still untranslated. Safe to run from several shells at once (file lock).

Usage: .venv/bin/python scripts/update_catalogs.py [--check]

A sources file maps an English msgid to its translations:
    "Sorry, I did not understand.":
      zh: "抱歉，我没有理解。"
      ru: "…"
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = ("en", "zh", "ru", "ar", "ko", "ja")
BABEL_LOCALE = {"zh": "zh_Hans_CN"}


def load_sources() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted((LOCALES / "sources").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise SystemExit(f"{path}: expected a mapping of msgid to translations")
        for msgid, translations in data.items():
            if not isinstance(translations, dict):
                raise SystemExit(f"{path}: {msgid!r}: expected a mapping of language to text")
            merged.setdefault(str(msgid), {}).update({str(k): str(v) for k, v in translations.items()})
    return merged


def refresh(check_only: bool) -> int:
    pybabel = str(Path(sys.executable).parent / "pybabel")
    pot = LOCALES / "messages.pot"
    subprocess.run(
        [pybabel, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "t:2", "-k", "N_", "--no-location", "--sort-output",
         "--omit-header", "-o", str(pot), str(ROOT / "bot")],
        check=True, capture_output=True,
    )
    for lang in LANGUAGES:
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            subprocess.run([pybabel, "init", "-i", str(pot), "-d", str(LOCALES), "-D", "messages", "-l", lang],
                           check=True, capture_output=True)
    subprocess.run([pybabel, "update", "-i", str(pot), "-d", str(LOCALES), "-D", "messages",
                    "--no-fuzzy-matching", "--ignore-obsolete", "--omit-header"], check=True, capture_output=True)
    sources = load_sources()
    missing: list[str] = []
    for lang in LANGUAGES:
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=BABEL_LOCALE.get(lang, lang))
        for message in catalog:
            if not message.id:
                continue
            msgid = str(message.id)
            text = sources.get(msgid, {}).get(lang)
            if text is not None:
                message.string = text
            elif lang == "en":
                message.string = ""  # English falls back to the msgid
            elif not message.string:
                missing.append(f"{lang}: {msgid[:70]}")
        with po.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    for line in missing:
        print(f"untranslated {line}")
    print(f"{len(missing)} untranslated strings")
    return 1 if (missing and check_only) else 0


def main() -> int:
    lock_path = ROOT / "var" / "locales.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return refresh("--check" in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
