"""Benchmark: time to the WeChat passive HTTP answer under 40 concurrent senders, beside the REST channel.

Starts the real stack (action server, Rasa, application) with the WeChat channel pointed at the
fake WeChat API on loopback, then runs the same closed-loop load through both channels:
``SENDERS`` concurrent patients, ``MESSAGES_PER_SENDER`` messages each, capped at ``MAX_SECONDS``
per channel. For WeChat it measures the time until WeChat would have its HTTP answer (a passive
reply, or ``success`` when the answer was deferred to the customer-service API) and counts both,
and the time until the patient has the answer (the passive reply, or the customer-service message
reaching the fake WeChat API, polled every 20 ms).

A patient writes again once they have the answer (``--next-after answer``, the default), as people
do; ``--next-after http`` sends the next message as soon as the HTTP answer came back, so deferred
turns pile up behind new ones (a flood rather than 40 people).

Usage: .venv/bin/python -m bench.wechat_passive [--senders 40] [--messages 10] [--passive-seconds 0.8]
    [--next-after answer|http]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.wechat_requests import AES_KEY, TOKEN, signed_query, text_xml
from tests.e2e.stack import start_stack

QUESTIONS = (
    "hello",
    "Which visa do I need for treatment in China?",
    "How do I pay at a Chinese hospital?",
    "我的保险可以直接结算吗",
    "Как записаться к врачу?",
    "what documents should I bring",
)
MAX_SECONDS = 120.0


@dataclass
class Run:
    """Latencies of one channel's run."""

    name: str
    latencies: list[float] = field(default_factory=list)
    answer_latencies: list[float] = field(default_factory=list)  # until the patient has the answer
    errors: int = 0
    deferred: int = 0
    seconds: float = 0.0

    def percentile(self, q: float, answers: bool = False) -> float:
        ordered = sorted(self.answer_latencies if answers else self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    def line(self) -> str:
        p50 = statistics.median(self.latencies) if self.latencies else float("nan")
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (f"{self.name:<8} requests={len(self.latencies):4d} errors={self.errors:3d} deferred={self.deferred:3d} "
                f"p50={p50 * 1000:7.0f} ms  p95={self.percentile(95) * 1000:7.0f} ms  "
                f"p99={self.percentile(99) * 1000:7.0f} ms  max={max(self.latencies, default=0) * 1000:7.0f} ms  "
                f"{rate:5.1f} req/s")


async def _load(name: str, senders: int, messages: int, send: object, answered: object = None) -> Run:
    run = Run(name)
    deadline = time.monotonic() + MAX_SECONDS
    started = time.monotonic()

    async def sender(index: int) -> None:
        for number in range(messages):
            if time.monotonic() > deadline:
                return
            question = QUESTIONS[(index + number) % len(QUESTIONS)]
            began = time.perf_counter()
            try:
                outcome = await send(index, number, question)  # type: ignore[operator]
            except httpx.HTTPError:
                run.errors += 1
                continue
            run.latencies.append(time.perf_counter() - began)
            if outcome == "error":
                run.errors += 1
                continue
            if outcome == "deferred":
                run.deferred += 1
            if answered is not None and await answered(index, outcome):  # type: ignore[operator]
                run.answer_latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(sender(i) for i in range(senders)))
    run.seconds = time.monotonic() - started
    return run


async def bench(url: str, senders: int, messages: int, tag: str, fake: FakeWeChat | None) -> tuple[Run, Run]:
    """Both channels' runs; with ``fake``, a WeChat patient waits for a deferred answer before writing again."""
    limits = httpx.Limits(max_connections=senders + 10, max_keepalive_connections=senders + 10)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:

        async def rest(index: int, number: int, question: str) -> str:
            response = await client.post("/webhooks/rest/webhook", json={
                "sender": f"bench-rest-{tag}-{index}", "message": question,
                "metadata": {"message_id": f"{tag}-{index}-{number}"}})
            return "ok" if response.status_code == 200 and response.json() else "error"

        async def wechat(index: int, number: int, question: str) -> str:
            xml = text_xml(f"bench-wx-{tag}-{index}", question, 10_000_000 + index * 1000 + number)
            response = await client.post("/webhooks/wechat", params=signed_query(), content=xml.encode())
            if response.status_code != 200:
                return "error"
            return "deferred" if response.text == "success" else "ok"

        seen = [0] * senders

        async def answered(index: int, outcome: str) -> bool:
            """The answer reached the patient: at once when passive, else by the customer-service API."""
            assert fake is not None
            openid = f"bench-wx-{tag}-{index}"
            if outcome == "deferred":
                texts = await fake.until_sent(seen[index] + 1, openid, timeout=30.0)
                if len(texts) <= seen[index]:
                    return False
            seen[index] = len(fake.sent_texts(openid))
            return True

        await rest(0, -1, "hello")  # warm-up outside the figures
        await wechat(0, -1, "hello")
        rest_run = await _load("rest", senders, messages, rest)
        wechat_run = await _load("wechat", senders, messages, wechat, answered if fake else None)
    return rest_run, wechat_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10, help="messages per sender and channel")
    parser.add_argument("--passive-seconds", type=float, default=None, help="default: the configured window")
    parser.add_argument("--next-after", choices=("answer", "http"), default="answer",
                        help="a patient writes again after the answer (default) or right after the HTTP answer")
    parser.add_argument("--redis-url", help="use Redis for locks, events, nonces and tokens (production setup)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    fake = FakeWeChat().start()
    work = Path(tempfile.mkdtemp(prefix="bench-wechat-"))
    env = {
        "MC_WECHAT__API_BASE_URL": fake.base_url,
        "MC_WECHAT__APP_ID": APP_ID,
        "MC_WECHAT__APP_SECRET": APP_SECRET,
        "MC_WECHAT__TOKEN": TOKEN,
        "MC_WECHAT__ENCODING_AES_KEY": AES_KEY,
        "MC_RATE_LIMIT_PER_MINUTE": "100000",
    }
    if args.passive_seconds is not None:
        env["MC_WECHAT__PASSIVE_REPLY_SECONDS"] = str(args.passive_seconds)
    if args.redis_url:
        env["MC_REDIS__URL"] = args.redis_url
    database_url = _create_postgres_database() if args.postgres else None
    print(f"starting the stack under {work} (fake WeChat at {fake.base_url}, database "
          f"{'PostgreSQL' if database_url else 'SQLite'}, Redis {'on' if args.redis_url else 'off'})", flush=True)
    running = start_stack(work, database_url, **env)
    try:
        tag = str(int(time.time()))
        waiting = fake if args.next_after == "answer" else None
        rest_run, wechat_run = asyncio.run(bench(running.url, args.senders, args.messages, tag, waiting))
        deferred_sent = fake.wait_for_sent(wechat_run.deferred, timeout=60.0) if wechat_run.deferred else []
        window = running.settings.wechat.passive_reply_seconds
        print(f"\n{args.senders} concurrent senders, {args.messages} messages each, passive window "
              f"{window} s, next message after the {args.next_after} (real Rasa + action server + app, 1 worker)")
        print(rest_run.line())
        print(wechat_run.line())
        print(f"wechat p99 time to the HTTP answer: {wechat_run.percentile(99) * 1000:.0f} ms "
              f"(target < 1000 ms): {'met' if wechat_run.percentile(99) < 1.0 else 'NOT met'}")
        print(f"deferred answers delivered by the customer-service API: {len(deferred_sent)}")
        if wechat_run.answer_latencies:
            print(f"wechat time until the patient has the answer: p50 "
                  f"{statistics.median(wechat_run.answer_latencies) * 1000:.0f} ms, p99 "
                  f"{wechat_run.percentile(99, answers=True) * 1000:.0f} ms "
                  f"({len(wechat_run.answer_latencies)} answers; REST p99 {rest_run.percentile(99) * 1000:.0f} ms)")
        ratio = wechat_run.percentile(99) / rest_run.percentile(99) if rest_run.latencies else float("nan")
        print(f"wechat/rest p99 ratio: {ratio:.2f}")
    finally:
        running.stack.stop()
        fake.stop()
        if database_url:
            _drop_postgres_database(database_url)
    return 0


def _create_postgres_database() -> str:
    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_ADMIN_URL

    name = f"mc_bench_{int(time.time())}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + f"/{name}"


def _drop_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_ADMIN_URL

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
