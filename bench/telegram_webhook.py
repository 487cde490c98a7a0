"""Telegram webhook throughput and update→reply latency, beside the REST channel, on the real stack.

One run starts a fake Bot API server (tests/channels/fake_telegram.py) in this process and the real
stack (action server + Rasa + application) with the Telegram channel in webhook mode pointed at it,
then drives, one after the other and with the same messages:
  - the REST channel: ``concurrency`` closed-loop conversations;
  - the Telegram webhook: ``concurrency`` chats, each posting its next update as soon as the
    previous one was accepted; latency = update posted → reply received by the fake Bot API.

    .venv/bin/python -m bench.telegram_webhook [--seconds 20] [--concurrency 40] [--max-updates 3000]
        [--flood-limit 30] [--engine rasa|scripted]

``--engine scripted`` replaces the stack by the application alone, in this process, with an instant
scripted dialogue engine instead of Rasa, to look at what the channels themselves cost. Caveat: the
load generator, the application and the fake Bot API then share one process (one GIL) and the
Telegram path pays for the fake API's work too, so read its ratio as an upper bound of the overhead.

``--flood-limit`` is PTB's AIORateLimiter overall rate (Telegram allows about 30 messages/s per bot;
0 turns the limiter off to show the application's own capacity).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import MESSAGES, LoadResult, closed_loop
from bot.storage.migrate import upgrade
from tests.channels.fake_telegram import FakeTelegram, text_update
from tests.channels.telegram_harness import SECRET, running_app
from tests.e2e.stack import start_stack

CHAT_BASE = 910_000_000


@dataclass
class WebhookResult:
    """Figures of one webhook run."""

    concurrency: int
    seconds: float
    accepted: list[tuple[int, float, float]] = field(default_factory=list)  # chat, posted, answered (monotonic)
    errors: int = 0
    reply_latencies: list[float] = field(default_factory=list)
    missing_replies: int = 0

    @property
    def updates_per_second(self) -> float:
        return len(self.accepted) / self.seconds if self.seconds else 0.0

    def percentile(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def webhook_closed_loop(
    app_url: str, fake: FakeTelegram, secret: str, concurrency: int, seconds: float, max_updates: int,
    update_ids: itertools.count[int], chat_base: int,
) -> WebhookResult:
    """``concurrency`` chats, each posting its next update once the previous one was accepted (200)."""
    result = WebhookResult(concurrency, seconds)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency + 5, max_keepalive_connections=concurrency + 5)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def chat(index: int) -> None:
            chat_id = chat_base + index
            turn = 0
            while time.monotonic() < deadline and len(result.accepted) + result.errors < max_updates:
                update = text_update(next(update_ids), chat_id, MESSAGES[turn % len(MESSAGES)])
                posted = time.monotonic()
                try:
                    response = await client.post(f"{app_url}/webhooks/telegram", json=update, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    result.accepted.append((chat_id, posted, time.monotonic()))
                else:
                    result.errors += 1
                turn += 1

        started = time.monotonic()
        await asyncio.gather(*(chat(i) for i in range(concurrency)))
        result.seconds = time.monotonic() - started
    await asyncio.sleep(2.0)  # replies deferred to the outbox, if any
    _match_replies(result, fake)
    return result


def _match_replies(result: WebhookResult, fake: FakeTelegram) -> None:
    """Latency of each accepted update: the first reply to its chat received after it was posted."""
    replies: dict[int, list[float]] = {}
    for call in fake.requests("sendMessage", ok_only=True):
        replies.setdefault(int(call.params["chat_id"]), []).append(call.at)
    for chat_id, posted, _answered in result.accepted:
        times = replies.get(chat_id, [])
        index = bisect.bisect_left(times, posted)
        if index < len(times):
            result.reply_latencies.append(times[index] - posted)
        else:
            result.missing_replies += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measured run")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--max-updates", type=int, default=3000, help="upper bound of updates per run")
    parser.add_argument("--flood-limit", type=float, default=30.0, help="AIORateLimiter messages/s (0 = off)")
    parser.add_argument("--engine", choices=("rasa", "scripted"), default="rasa")
    args = parser.parse_args()

    fake = FakeTelegram().start()
    if args.engine == "scripted":
        try:
            rest, telegram = asyncio.run(scripted_run(fake, args))
        finally:
            fake.stop()
        report(args, rest, telegram)
        return
    secret = secrets.token_urlsafe(24)
    work = Path(tempfile.mkdtemp(prefix="mc-bench-telegram-"))
    running = start_stack(
        work,
        MC_TELEGRAM__BOT_TOKEN=fake.token,
        MC_TELEGRAM__MODE="webhook",
        MC_TELEGRAM__WEBHOOK_SECRET=secret,
        MC_TELEGRAM__BASE_URL=fake.base_url,
        MC_TELEGRAM__BASE_FILE_URL=fake.base_file_url,
        MC_TELEGRAM__MAX_MESSAGES_PER_SECOND=str(args.flood_limit),
    )
    update_ids = itertools.count(1)
    try:
        rest_url = f"{running.url}/webhooks/rest/webhook"
        asyncio.run(closed_loop(rest_url, 5, 3, "warm-rest"))
        asyncio.run(webhook_closed_loop(running.url, fake, secret, 5, 3, 10_000, update_ids, CHAT_BASE - 1000))
        rest: LoadResult = asyncio.run(
            closed_loop(rest_url, args.concurrency, args.seconds, "bench-rest", max_turns=args.max_updates)
        )
        telegram = asyncio.run(
            webhook_closed_loop(
                running.url, fake, secret, args.concurrency, args.seconds, args.max_updates, update_ids, CHAT_BASE
            )
        )
    finally:
        running.stack.stop()
        fake.stop()
    report(args, rest, telegram)


async def scripted_run(fake: FakeTelegram, args: argparse.Namespace) -> tuple[LoadResult, WebhookResult]:
    """The application in this process with an instant scripted engine (no Rasa): channel cost only."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mc-bench-telegram-')) / 'app.db'}"
    upgrade(url)
    update_ids = itertools.count(1)
    async with running_app(url, fake, max_messages_per_second=args.flood_limit) as app:
        rest_url = f"{app.url}/webhooks/rest/webhook"
        rest = await closed_loop(rest_url, args.concurrency, args.seconds, "bench-rest", max_turns=args.max_updates)
        telegram = await webhook_closed_loop(
            app.url, fake, SECRET, args.concurrency, args.seconds, args.max_updates, update_ids, CHAT_BASE
        )
    return rest, telegram


def report(args: argparse.Namespace, rest: LoadResult, telegram: WebhookResult) -> None:
    engine = "real stack (Rasa + actions)" if args.engine == "rasa" else "scripted engine, app only"
    print(f"\n== Telegram webhook vs REST channel, {args.concurrency} concurrent senders, same run; {engine} ==")
    print(f"flood limit (AIORateLimiter): {args.flood_limit or 'off'} messages/s")
    print(
        f"REST      turns={rest.turns:5d} errors={rest.errors:3d}  {rest.throughput:6.1f} turns/s    "
        f"p50={rest.p50 * 1000:7.1f} ms  p99={rest.percentile(99) * 1000:7.1f} ms  (request → reply)"
    )
    accept = [answered - posted for _chat, posted, answered in telegram.accepted]
    print(
        f"Telegram  updates={len(telegram.accepted):5d} errors={telegram.errors:3d}  "
        f"{telegram.updates_per_second:6.1f} updates/s  "
        f"p50={telegram.percentile(telegram.reply_latencies, 50) * 1000:7.1f} ms  "
        f"p99={telegram.percentile(telegram.reply_latencies, 99) * 1000:7.1f} ms  (update → reply at the Bot API)"
    )
    print(
        f"          webhook accepted (200) p99={telegram.percentile(accept, 99) * 1000:7.1f} ms; "
        f"updates without a reply: {telegram.missing_replies}"
    )
    if rest.throughput:
        print(f"ratio Telegram / REST: throughput {telegram.updates_per_second / rest.throughput:5.2f}x   "
              f"p99 {telegram.percentile(telegram.reply_latencies, 99) / rest.percentile(99):5.2f}x")


if __name__ == "__main__":
    main()
