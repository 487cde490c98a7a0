"""Helpers for driving the console in Debian's Chromium against the real stack (tests and benchmark)."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from playwright.sync_api import Browser, Page, Playwright

from bot.console.security import hash_password
from bot.handoff.models import Coordinator, Role
from bot.storage.database import Database
from tests.e2e.stack import RunningStack

CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INTAKE_ANSWERS = ["Anna Example", "Kazakhstan", "knee replacement", "Beijing", "in March", "anna@example.org"]


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium (no browser download); fails when it is not installed."""
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed (make test installs it with apt)"
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def create_coordinator(database_url: str, email: str, password: str, role: Role = Role.COORDINATOR) -> int:
    """An account in the stack's database (as ``python -m bot create-admin`` or an admin would make it)."""

    async def create() -> int:
        database = Database(database_url)
        try:
            async with database.session() as session:
                row = Coordinator(email=email, display_name=email.split("@")[0].title(),
                                  password_hash=hash_password(password), role=role)
                session.add(row)
                await session.flush()
                return row.id
        finally:
            await database.dispose()

    return asyncio.run(create())


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Log in through the form and wait until the queue's live stream is connected."""
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console/queue")
    page.wait_for_function("document.getElementById('live-status').textContent.includes('on')")


def handoff_markers(replies: list[dict[str, Any]]) -> list[str]:
    return [r["custom"]["handoff"] for r in replies if "handoff" in (r.get("custom") or {})]


def start_intake(stack: RunningStack, sender: str, language: str = "en") -> None:
    """Ask for a human, consent, and answer all intake questions but the last."""
    assert handoff_markers(stack.say(sender, "/request_human", language=language)) == ["consent_requested"]
    assert "intake" in handoff_markers(stack.say(sender, "/affirm", language=language))
    for answer in INTAKE_ANSWERS[:-1]:
        stack.say(sender, answer, language=language)


def finish_intake(stack: RunningStack, sender: str, language: str = "en") -> str:
    """The last intake answer: the case opens; returns its number."""
    replies = stack.say(sender, INTAKE_ANSWERS[-1], language=language)
    assert handoff_markers(replies) == ["case_opened"], replies
    number: str = replies[0]["custom"]["case_number"]
    return number
