"""The web chat in Debian's Chromium against the real stack: questions in English and Arabic, a quick reply,
a handoff with consent and intake, a coordinator reply from the console arriving live, and a reload."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.stack import RunningStack
from tests.webchat.conftest import HostSite

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 780}
INTAKE = ["Anna", "Kazakhstan", "knee replacement", "skip", "in March", "anna@example.org"]
REPLY_WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is not installed (make test installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def settle(page: Page) -> None:
    """Wait until every message the page sent has its answer (no bubble is still pending)."""
    expect(page.locator("li.pending")).to_have_count(0, timeout=REPLY_WAIT_MS)
    expect(page.locator("li.failed")).to_have_count(0)


def say(page: Page, text: str) -> None:
    """Type like a person and press Enter."""
    before = page.locator("li.message").count()
    page.locator("#input").fill(text)
    page.locator("#input").press("Enter")
    expect(page.locator("li.message")).not_to_have_count(before, timeout=5_000)
    settle(page)


def last_bot(page: Page) -> Any:
    return page.locator("li.from-bot").last


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path


def test_english_quick_reply_knowledge_footer_and_phone_width(browser: Browser, chat_stack: RunningStack) -> None:
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{chat_stack.url}/chat?lang=en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    # Keyboard: the picker, then the composer and its Send button, in reading order.
    page.locator("#language").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#new-chat")).to_be_focused()
    page.locator("#input").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#send")).to_be_focused()
    say(page, "Hello")
    visa = last_bot(page).locator('.quick-reply[data-payload="/ask_visa"]')
    expect(visa).to_be_visible()
    visa.click()
    settle(page)
    # The pressed button's title is what the patient sees as their message, and the advisor asks next.
    expect(page.locator("li.from-patient").last).to_contain_text("Visa")
    # The visa advisor asks with buttons until it has what it needs, then answers from the knowledge base.
    for _ in range(5):
        choices = last_bot(page).locator(".quick-reply:enabled")
        if last_bot(page).locator("small.source").count() or not choices.count():
            break
        title = choices.first.inner_text()
        choices.first.click()
        settle(page)
        expect(page.locator("li.from-patient").last).to_contain_text(title)
    expect(last_bot(page).locator("small.source")).to_have_count(1)
    say(page, "Can I pay with Alipay at the hospital?")
    answer = last_bot(page)
    expect(answer).to_contain_text("Alipay")
    footer = answer.locator("small.source")
    expect(footer).to_have_text(re.compile(r"^— .+\.txt, .+"))
    font = footer.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    body = answer.locator(".text").evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    assert font < body
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "webchat-english-phone.png")
    # An emergency reply stands out from ordinary answers.
    say(page, "I have chest pain and cannot breathe")
    emergency = page.locator("li.emergency .bubble")
    expect(emergency).to_have_count(1)
    expect(emergency).to_contain_text("120")
    highlight = emergency.evaluate("node => getComputedStyle(node).backgroundColor")
    ordinary = answer.locator(".bubble").evaluate("node => getComputedStyle(node).backgroundColor")
    assert highlight != ordinary


def test_arabic_question_is_laid_out_right_to_left(browser: Browser, chat_stack: RunningStack) -> None:
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{chat_stack.url}/chat?lang=en")
    page.locator("#language").select_option("ar")
    settle(page)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#send")).to_have_text("إرسال")
    say(page, "كيف يمكنني الدفع في المستشفى؟")
    answer = last_bot(page).locator(".bubble")
    expect(answer).to_have_attribute("dir", "auto")
    assert answer.evaluate("node => getComputedStyle(node).direction") == "rtl"
    assert re.search("[\u0600-\u06ff]", answer.inner_text())
    # The seed file name in the Arabic footer is isolated left to right, so it is not scrambled.
    expect(answer.locator('small.source bdi[dir="ltr"]')).to_have_text(re.compile(r"^\d{3}_\w+\.txt$"))
    # The patient's bubble sits on the start side of the right-to-left page (its right edge).
    mine = page.locator("li.from-patient .bubble").last.bounding_box()
    theirs = answer.bounding_box()
    assert mine is not None and theirs is not None and mine["x"] < theirs["x"]
    shot(page, "webchat-arabic-phone.png")


def test_handoff_then_a_coordinator_reply_arrives_live_and_survives_a_reload(
    browser: Browser, chat_stack: RunningStack, console_admin: tuple[str, str]
) -> None:
    patient = browser.new_context(viewport={"width": 420, "height": 860}).new_page()
    patient.goto(f"{chat_stack.url}/")
    say(patient, "Which documents should I bring for treatment in China?")
    say(patient, "I want to talk to a person")
    consent = last_bot(patient)
    expect(consent).to_have_attribute("data-handoff", "consent_requested")
    consent.locator('.quick-reply[data-payload="/affirm"]').click()
    settle(patient)
    for answer in INTAKE:
        say(patient, answer)
    opened = patient.locator('li[data-handoff="case_opened"]')
    expect(opened).to_have_count(1)
    number = re.search(r"MC-\d{4}-\d{6}", opened.inner_text())
    assert number, opened.inner_text()

    email, password = console_admin
    console = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    console.goto(f"{chat_stack.url}/console/login")
    console.locator('input[name="email"]').fill(email)
    console.locator('input[name="password"]').fill(password)
    console.locator('button[type="submit"]').click()
    case_link = console.get_by_role("link", name=number.group(0))
    expect(case_link).to_be_visible(timeout=10_000)
    case_link.click()
    if console.locator("#claim").count():
        console.locator("#claim").click()
    reply = "Hello Anna, I am Li, your coordinator. I will look at your documents today."
    console.locator("#reply-text").fill(reply)
    console.get_by_role("button", name="Send reply").click()
    expect(console.locator("body")).to_contain_text(reply)

    # No reload: the reply comes through the page's live stream.
    arrived = patient.locator("li.from-coordinator")
    expect(arrived).to_have_count(1, timeout=10_000)
    expect(arrived).to_contain_text(reply)
    expect(arrived.locator(".who")).to_have_text("Coordinator")
    shot(patient, "webchat-handoff.png")
    console.evaluate("window.scrollTo(0, 0)")
    shot(console, "webchat-console-case.png")

    count = patient.locator("li.message").count()
    patient.reload()
    expect(patient.locator("li.message")).to_have_count(count, timeout=10_000)
    expect(patient.locator("li.from-coordinator")).to_contain_text(reply)
    expect(patient.locator('li[data-handoff="case_opened"]')).to_contain_text(number.group(0))
    # The restored transcript shows the pressed consent button's title, not its payload.
    assert "/affirm" not in patient.locator("#messages").inner_text()


def test_widget_on_an_allowed_site_opens_the_chat_in_an_iframe(browser: Browser, host_site: HostSite) -> None:
    page = browser.new_context(viewport={"width": 1024, "height": 760}).new_page()
    page.goto(f"{host_site.origin}/")
    launcher = page.get_by_role("button", name="MedConcierge chat")
    expect(launcher).to_be_visible(timeout=10_000)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame = page.frame_locator("#medconcierge-chat")
    expect(frame.locator("body.embed")).to_be_visible(timeout=10_000)
    frame.locator("#input").fill("Hello")
    frame.locator("#input").press("Enter")
    expect(frame.locator("li.pending")).to_have_count(0, timeout=REPLY_WAIT_MS)
    expect(frame.locator("li.from-bot").last).to_contain_text("MedConcierge")
    shot(page, "webchat-widget.png")
    page.keyboard.press("Escape")
    expect(page.locator("#medconcierge-chat")).to_be_hidden()


def test_a_site_not_in_the_allow_list_cannot_frame_the_chat(browser: Browser, chat_stack: RunningStack) -> None:
    page = browser.new_context().new_page()
    # Another origin (localhost, another port) that the configuration does not list; served by Playwright.
    page.route("http://localhost:9/", lambda route: route.fulfill(
        content_type="text/html",
        body=f"<iframe id='chat' src='{chat_stack.url}/chat?embed=1'></iframe>",
    ))
    page.goto("http://localhost:9/")
    expect(page.locator("#chat")).to_be_attached()
    urls: list[str] = []
    for _ in range(100):
        urls = [frame.url for frame in page.frames if frame is not page.main_frame]
        if urls and urls[0] and urls[0] != "about:blank":
            break
        page.wait_for_timeout(100)
    # Chromium replaces a frame refused by frame-ancestors with its error page.
    assert urls == ["chrome-error://chromewebdata/"], urls
    assert page.frame_locator("#chat").locator("#composer").count() == 0
