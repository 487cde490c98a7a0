"""``python -m bot shell`` driven through a pseudo-terminal against the real stack."""

from __future__ import annotations

import re
import sys

import httpx
import pexpect
import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SENDER = re.compile(r"sender (shell-[0-9a-f-]{36})")


def spawn(url: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, ["-m", "bot", "shell", "--url", url], encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    child.expect(SENDER)
    return child


def reply_as_coordinator(url: str, email: str, password: str, number: str, text: str) -> None:
    """Log in to the console over HTTP like a browser, claim the case and reply."""
    with httpx.Client(base_url=url, timeout=30.0) as console:
        login = console.get("/console/login")
        token = CSRF.search(login.text)
        assert token
        signed = console.post("/console/login", data={"email": email, "password": password,
                                                      "csrf_token": token.group(1)})
        assert signed.status_code == 303, signed.text
        queue = console.get("/console/queue").text
        link = re.search(r'href="/console/cases/(\d+)">' + re.escape(number) + "<", queue)
        assert link, "the case is not in the queue"
        case = f"/console/cases/{link.group(1)}"
        csrf = CSRF.search(console.get(case).text)
        assert csrf
        console.post(f"{case}/claim", data={"csrf_token": csrf.group(1)})
        sent = console.post(f"{case}/reply", data={"text": text, "csrf_token": csrf.group(1)})
        assert sent.status_code == 303, sent.text


def test_greet_numbered_button_language_and_restart(chat_stack: RunningStack) -> None:
    child = spawn(chat_stack.url)
    first_sender = child.match.group(1)
    child.expect_exact("> ")
    child.sendline("Hello")
    child.expect("bot: Hello! I am MedConcierge")
    child.expect(r"1\) Visa")
    child.expect_exact("> ")
    child.sendline("1")
    child.expect_exact("you chose: Visa")
    child.expect("What is the purpose of your trip")
    child.expect(r"2\) Outpatient visit")
    child.expect_exact("> ")
    child.sendline("/language ru")
    child.expect_exact("language: ru (Русский)")
    child.expect(r"bot: [^\n]*[А-Яа-яЁё]")
    child.expect_exact("> ")
    child.sendline("/restart")
    child.expect(SENDER)
    assert child.match.group(1) != first_sender
    child.expect_exact("> ")
    child.sendline("/language")
    child.expect(r"1\) English")
    child.expect(r"6\) 日本語")
    child.expect_exact("> ")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_coordinator_reply_is_printed_while_waiting(chat_stack: RunningStack, console_admin: tuple[str, str]) -> None:
    child = spawn(chat_stack.url)
    child.expect_exact("> ")
    child.sendline("I want to talk to a person")
    child.expect(r"1\) (\S[^\n]*)")
    child.expect_exact("> ")
    child.sendline("1")  # consent: the first button agrees
    for _ in range(6):
        child.expect_exact("> ")
        child.sendline("skip")
    child.expect(r"MC-\d{4}-\d{6}")
    number = child.match.group(0)
    child.expect_exact("> ")
    text = "Hello, this is Li from the coordination team."
    reply_as_coordinator(chat_stack.url, *console_admin, number, text)
    child.expect_exact(f"coordinator: {text}", timeout=15)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
