"""The console in a real browser (Debian's Chromium via Playwright) against the real stack.

A patient asks for a human over REST; the case appears in an open queue page without reload; the
coordinator claims it, sees the patient's messages arrive live, replies (delivered on the REST
channel), and returns the conversation to the bot, which answers again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.handoff.models import Role
from bot.settings import PROJECT_ROOT
from bot.storage.database import sync_url
from bot.storage.models import Author, Message, OutboxItem, OutboxStatus
from tests.console.browser import create_coordinator, finish_intake, launch_chromium, log_in, start_intake
from tests.e2e.stack import RunningStack, start_stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"
PASSWORD = "browser-test-password"
REPLY = "Hello Anna, I am your coordinator. I will arrange the appointment."


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(Path(tmp_path_factory.mktemp("console-stack")))
    yield running
    running.stack.stop()


def _stored_reply(database_url: str, text: str) -> tuple[str, str] | None:
    """(direction, outbox status) of the stored coordinator reply, once it exists.

    Synchronous on purpose: Playwright's sync API already runs an event loop in this thread.
    """
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session:
            row = session.execute(
                select(Message, OutboxItem).join(OutboxItem, OutboxItem.message_id == Message.id)
                .where(Message.author == Author.COORDINATOR, Message.text == text)
            ).first()
            return None if row is None else (row[0].direction.value, row[1].status.value)
    finally:
        engine.dispose()


def test_handoff_live_in_the_queue_claim_reply_and_return_to_bot(stack: RunningStack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    create_coordinator(stack.settings.database_url, "coordinator@example.org", PASSWORD)
    create_coordinator(stack.settings.database_url, "admin@example.org", PASSWORD, Role.ADMIN)
    sender = "browser-patient-1"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, stack.url, "coordinator@example.org", PASSWORD)
            assert page.locator("tr.case-row").count() == 0

            # The patient asks for a human over REST while the queue page is open (no reload from here on).
            start_intake(stack, sender)
            number = finish_intake(stack, sender)
            row = page.locator("tr.case-row", has_text=number)
            row.wait_for(timeout=5000)
            assert "unassigned" in (row.get_attribute("class") or "")
            assert page.locator("#live-badge").inner_text() == "1"
            assert "Anna Example" in row.inner_text()
            page.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)

            # An admin has the same case open in another browser while the coordinator claims it.
            case_url = stack.url + (row.locator("a").first.get_attribute("href") or "")
            admin = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            log_in(admin, stack.url, "admin@example.org", PASSWORD)
            admin.goto(case_url)
            admin.wait_for_function("document.getElementById('live-status').textContent.includes('on')")
            admin.evaluate("window.notReloaded = true")

            # Claim.
            row.locator("a").click()
            page.wait_for_selector("#claim")
            page.click("#claim")
            page.wait_for_selector("text=You claimed this case.")
            admin.locator("#case-changed", has_text="A coordinator claimed this case.").wait_for(timeout=5000)
            assert admin.evaluate("window.notReloaded === true"), "the admin's page reloaded by itself"
            admin.click("#case-changed a")
            admin.locator("p", has_text="Assignee: Coordinator").wait_for(timeout=5000)
            admin.close()
            page.wait_for_function("document.getElementById('live-status').textContent.includes('on')")

            # While the coordinator owns the conversation the bot is silent and messages arrive live.
            assert stack.say(sender, "Can you also book a hotel near the hospital?") == []
            page.locator("li.msg-patient", has_text="book a hotel near the hospital").wait_for(timeout=5000)

            # Reply with a canned answer available and our own text.
            assert page.locator("#canned option").count() > 1
            page.fill("#reply-text", REPLY)
            page.click("#reply button[type=submit]")
            page.wait_for_selector("text=Reply queued for delivery")
            page.locator("li.msg-coordinator", has_text="I am your coordinator").wait_for(timeout=5000)
            page.screenshot(path=str(SCREENSHOTS / "console-case.png"), full_page=True)

            # Delivered on the REST channel: stored outbound, outbox item sent, visible to the chat's poll.
            deadline = time.monotonic() + 10
            while _stored_reply(stack.settings.database_url, REPLY) != ("outbound", OutboxStatus.SENT.value):
                assert time.monotonic() < deadline, _stored_reply(stack.settings.database_url, REPLY)
                time.sleep(0.2)
            history = httpx.get(f"{stack.url}/webchat/history", params={"sender": sender}, timeout=10).json()
            assert REPLY in [m.get("text") for m in history["messages"]]

            # Return to bot: the bot answers again.
            page.click("#return-to-bot")
            page.wait_for_selector("text=The bot answers this patient again.")
            answer = stack.say(sender, "hello")
            assert answer and answer[0].get("text")
            assert errors == []
        finally:
            browser.close()
