"""The dialogue domain and the action server agree with the intent contract (dialogs/INTENTS.md)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action

import bot.actions

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"


def _domains() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((DIALOGS / "domain").glob("*.yml"))}


def _intent_names(domain: dict[str, Any]) -> list[str]:
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in domain.get("intents") or []]


def test_every_contract_intent_is_declared_exactly_once() -> None:
    table = (DIALOGS / "INTENTS.md").read_text(encoding="utf-8")
    contract = set(re.findall(r"^\| ([a-z_]+) \|", table, flags=re.MULTILINE)) - {"intent"}
    declared = Counter(name for domain in _domains().values() for name in _intent_names(domain))
    assert sorted(contract - set(declared)) == []
    assert [name for name, count in declared.items() if count > 1] == []


def test_handoff_intents_are_left_to_the_handoff_domain() -> None:
    mine = {name for file, domain in _domains().items() if file != "handoff.yml" for name in _intent_names(domain)}
    assert not mine & {"request_human", "request_service", "ask_status"}


def test_every_custom_action_of_the_domain_is_served_by_the_action_server() -> None:
    served = set()
    for module in pkgutil.iter_modules(bot.actions.__path__):
        loaded = importlib.import_module(f"bot.actions.{module.name}")
        for _name, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == loaded.__name__ and not inspect.isabstract(cls):
                try:
                    served.add(cls().name())
                except (NotImplementedError, TypeError):
                    continue
    declared = {a for domain in _domains().values() for a in domain.get("actions") or [] if a.startswith(("action_",
                                                                                                       "validate_"))}
    assert sorted(declared - served) == []
