"""``python -m bot shell``: chat with the running stack in a terminal, like ``rasa shell``.

Replies are printed as they come; buttons become numbered choices (type the number to press one);
coordinator replies and late answers that arrive while you wait are printed from the live stream.
Commands: ``/language [xx]``, ``/restart`` (new conversation), ``/quit``, ``/help``; any other text,
including the bot's own commands such as ``/status``, is sent to the bot.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import httpx

from bot.webchat.texts import NATIVE_NAMES

LANGUAGE_PAYLOAD = '/choose_language{{"ui_language":"{code}"}}'
HELP = (
    "Type a message and press Enter. A number picks one of the numbered buttons.\n"
    "  /language xx   answer in xx (" + ", ".join(NATIVE_NAMES) + "); /language alone shows the choices\n"
    "  /restart       start a new conversation (new sender id)\n"
    "  /quit          leave (Ctrl-D too)"
)
PROMPT = "> "
Printer = Callable[[str], None]


def format_message(message: dict[str, Any]) -> list[str]:
    """Lines for one reply: author, text, and the buttons as numbered choices."""
    custom = message.get("custom") or {}
    author = "coordinator" if message.get("author") == "coordinator" else "bot"
    prefix = author
    if custom.get("emergency"):
        prefix += " [EMERGENCY]"
    if message.get("late"):
        prefix += " (answer to an earlier message)"
    lines = [f"{prefix}: {message.get('text') or ''}"]
    for number, button in enumerate(message.get("buttons") or [], start=1):
        lines.append(f"  {number}) {button['title']}")
    return lines


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` pairs of a server-sent event stream."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


class LiveReplies(threading.Thread):
    """Reads the live stream of one sender in the background and prints what arrives."""

    def __init__(self, url: str, sender: str, after: int, show: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(daemon=True, name=f"live-{sender[:8]}")
        self.url, self.sender, self.after, self.show = url, sender, after, show
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                params = {"sender": self.sender, "after": str(self.after)}
                timeout = httpx.Timeout(10.0, read=60.0)  # the server sends a heartbeat every 15 s
                with httpx.stream("GET", f"{self.url}/webchat/stream", params=params, timeout=timeout) as response:
                    for event, data in parse_sse(response.iter_lines()):
                        if self.stopped.is_set():
                            return
                        if event == "message":
                            message = json.loads(data)
                            self.after = max(self.after, int(message.get("id") or 0))
                            self.show(message)
            except (httpx.HTTPError, ValueError):
                pass
            # An empty stream (no conversation yet) or a dropped connection: try again shortly.
            self.stopped.wait(2.0)


class TerminalChat:
    """One terminal conversation with the REST channel of a running stack."""

    def __init__(self, url: str, sender: str | None, language: str | None, out: TextIO = sys.stdout) -> None:
        self.url = url.rstrip("/")
        self.sender = sender or f"shell-{uuid.uuid4()}"
        self.language = language
        self.out = out
        self.buttons: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.live: LiveReplies | None = None

    def print(self, *lines: str) -> None:
        with self.lock:
            for line in lines:
                self.out.write(line + "\n")
            self.out.flush()

    def show_pushed(self, message: dict[str, Any]) -> None:
        """A reply that arrived while waiting: printed on its own lines, then the prompt again."""
        with self.lock:
            self.out.write("\n" + "\n".join(format_message(message)) + "\n" + PROMPT)
            self.out.flush()
        if message.get("buttons"):
            self.buttons = list(message["buttons"])

    def start_live(self) -> None:
        if self.live is not None:
            self.live.stopped.set()
        after = 0
        try:
            history = httpx.get(f"{self.url}/webchat/history", params={"sender": self.sender}, timeout=10.0)
            messages = history.json().get("messages", []) if history.status_code == 200 else []
            after = max((int(m["id"]) for m in messages), default=0)
        except (httpx.HTTPError, ValueError):
            pass
        self.live = LiveReplies(self.url, self.sender, after, self.show_pushed)
        self.live.start()

    def send(self, message: str) -> bool:
        """One turn through the REST channel; prints the replies. False when the stack is unreachable."""
        metadata: dict[str, str] = {"message_id": str(uuid.uuid4())}
        if self.language:
            metadata["language"] = self.language
        body = {"sender": self.sender, "message": message, "metadata": metadata}
        for attempt in range(2):  # a resend carries the same message_id: answered once
            try:
                response = httpx.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60.0)
                break
            except httpx.HTTPError as exc:
                if attempt:
                    self.print(f"cannot reach {self.url} ({type(exc).__name__}): is the stack running (make run)?")
                    return False
        if response.status_code != 200:
            self.print(f"error {response.status_code}: {response.text[:200]}")
            return True
        self.buttons = []
        for reply in response.json():
            self.print(*format_message({"author": "bot", **reply}))
            if reply.get("buttons"):
                self.buttons = list(reply["buttons"])
        return True

    def handle(self, line: str) -> bool:
        """React to one typed line; False ends the chat."""
        text = line.strip()
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        if text == "/help":
            self.print(HELP)
            return True
        if text == "/restart":
            self.sender = f"shell-{uuid.uuid4()}"
            self.buttons = []
            self.start_live()
            self.print(f"New conversation (sender {self.sender}).")
            return True
        if text.startswith("/language "):
            code = text.split(maxsplit=1)[1].strip().lower()
            if code not in NATIVE_NAMES:
                self.print(f"unknown language {code!r}; choose one of: {', '.join(NATIVE_NAMES)}")
                return True
            self.language = code
            self.print(f"language: {code} ({NATIVE_NAMES[code]})")
            self.send(LANGUAGE_PAYLOAD.format(code=code))
            return True
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            button = self.buttons[int(text) - 1]
            self.print(f"you chose: {button['title']}")
            self.send(button["payload"])
            return True
        self.send(text)
        return True

    def close(self) -> None:
        if self.live is not None:
            self.live.stopped.set()


def run_shell(url: str, sender: str | None, language: str | None, stdin: TextIO = sys.stdin) -> int:
    """The read-send-print loop; returns the exit status."""
    chat = TerminalChat(url, sender, language)
    try:
        httpx.get(f"{chat.url}/healthz", timeout=10.0)
    except httpx.HTTPError:
        print(f"cannot reach {chat.url}: start the stack first (make run) or pass --url", file=sys.stderr)
        return 1
    chat.print(f"MedConcierge terminal chat on {chat.url} (sender {chat.sender}). /help for commands.")
    chat.start_live()
    interactive = stdin.isatty()
    try:
        while True:
            if interactive:
                try:
                    line = input(PROMPT)
                except EOFError:
                    break
            else:
                chat.print(PROMPT.rstrip())
                read = stdin.readline()
                if not read:
                    break
                line = read
            if not chat.handle(line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        chat.close()
    chat.print("bye")
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    """Chat with the running stack in this terminal (like rasa shell)."""
    return run_shell(args.url, args.sender, args.language)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("shell", help=cmd_shell.__doc__)
    parser.add_argument("--url", default=None, help="the application's URL (default: from config.yml)")
    parser.add_argument("--sender", default=None, help="continue the conversation of this sender id")
    parser.add_argument("--language", default=None, choices=list(NATIVE_NAMES), help="language hint")
    parser.set_defaults(handler=lambda args: cmd_shell(_with_default_url(args)))


def _with_default_url(args: argparse.Namespace) -> argparse.Namespace:
    if args.url is None:
        from bot.settings import get_settings

        http = get_settings().http
        args.url = f"http://{http.host}:{http.port}"
    return args
