"""The custom menu of the official account, built from ``settings.wechat.menu`` and checked.

Each configured item is ``{name, key, group?}``: ``key`` is the payload a click sends to the
dialogue (an intent such as ``/ask_visa``); items sharing a ``group`` become the sub-buttons of a
top-level button named after the group. WeChat allows 3 top-level buttons (names up to 16 bytes)
with up to 5 sub-buttons each (names up to 60 bytes) and keys up to 128 bytes.
"""

from __future__ import annotations

from typing import Any

MAX_TOP = 3
MAX_SUB = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128


class MenuError(ValueError):
    """The configured menu breaks a WeChat rule; the message names the offending item."""


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def build_menu(items: list[dict[str, str]]) -> dict[str, Any]:
    """The ``menu/create`` body for the configured items (raises ``MenuError`` naming a bad field)."""
    buttons: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        name, key, group = item.get("name", "").strip(), item.get("key", "").strip(), item.get("group", "").strip()
        where = f"wechat.menu[{index}]"
        if not name or not key:
            raise MenuError(f"{where}: needs a name and a key")
        if not key.startswith("/"):
            raise MenuError(f"{where}.key: {key!r} must be an intent payload starting with '/'")
        if _bytes(key) > MAX_KEY_BYTES:
            raise MenuError(f"{where}.key: over {MAX_KEY_BYTES} bytes")
        button = {"type": "click", "name": name, "key": key}
        if not group:
            if _bytes(name) > MAX_TOP_NAME_BYTES:
                raise MenuError(f"{where}.name: {name!r} is over {MAX_TOP_NAME_BYTES} bytes for a top-level button")
            buttons.append(button)
            continue
        if _bytes(name) > MAX_SUB_NAME_BYTES:
            raise MenuError(f"{where}.name: {name!r} is over {MAX_SUB_NAME_BYTES} bytes")
        if group not in groups:
            if _bytes(group) > MAX_TOP_NAME_BYTES:
                raise MenuError(f"{where}.group: {group!r} is over {MAX_TOP_NAME_BYTES} bytes")
            groups[group] = {"name": group, "sub_button": []}
            buttons.append(groups[group])
        groups[group]["sub_button"].append(button)
        if len(groups[group]["sub_button"]) > MAX_SUB:
            raise MenuError(f"{where}.group: {group!r} has more than {MAX_SUB} items")
    if not buttons:
        raise MenuError("wechat.menu: no items configured")
    if len(buttons) > MAX_TOP:
        raise MenuError(f"wechat.menu: {len(buttons)} top-level buttons, WeChat allows {MAX_TOP}")
    return {"button": buttons}


def menu_keys(items: list[dict[str, str]]) -> frozenset[str]:
    """The payloads a menu click may carry (anything else is refused politely)."""
    return frozenset(item.get("key", "").strip() for item in items if item.get("key", "").strip().startswith("/"))
