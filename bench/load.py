"""Closed-loop load against a Rasa-compatible REST webhook, and process memory readings."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MESSAGES = (
    "hello",
    "Which visa do I need for treatment longer than six months?",
    "How do I pay at a Chinese hospital?",
    "我的保险可以直接结算吗",
    "Как записаться к врачу в Пекине?",
    "what documents should I bring",
)


@dataclass
class LoadResult:
    """Figures of one load level."""

    concurrency: int
    turns: int
    errors: int
    seconds: float
    latencies: list[float]
    cores_busy: float = 0.0  # the machine's busy CPU cores during the run (all processes)
    loadgen_ms_per_turn: float = 0.0  # CPU the load generator itself spent per turn

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


async def closed_loop(
    url: str, concurrency: int, seconds: float, prefix: str, max_turns: int = 20_000, timeout: float = 60.0
) -> LoadResult:
    """``concurrency`` conversations, each sending its next message as soon as the reply came back."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency + 5, max_keepalive_connections=concurrency + 5)

    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def conversation(index: int) -> None:
            nonlocal errors
            turn = 0
            while time.monotonic() < deadline and len(latencies) + errors < max_turns:
                body = {"sender": f"{prefix}-{index}", "message": MESSAGES[turn % len(MESSAGES)]}
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                    ok = response.status_code == 200 and isinstance(response.json(), list)
                except (httpx.HTTPError, ValueError):
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
                turn += 1

        started = time.monotonic()
        await asyncio.gather(*(conversation(i) for i in range(concurrency)))
        elapsed = time.monotonic() - started
    return LoadResult(concurrency, len(latencies), errors, elapsed, latencies)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def measured_closed_loop(url: str, concurrency: int, seconds: float, prefix: str) -> LoadResult:
    """``closed_loop`` plus how busy the machine was and what the load generator itself cost."""
    busy_before, total_before = machine_cpu_seconds()
    own_before = time.process_time()
    result = asyncio.run(closed_loop(url, concurrency, seconds, prefix))
    busy_after, total_after = machine_cpu_seconds()
    cores = os.cpu_count() or 1
    result.cores_busy = cores * (busy_after - busy_before) / max(total_after - total_before, 1e-9)
    result.loadgen_ms_per_turn = (time.process_time() - own_before) * 1000 / max(result.turns, 1)
    return result


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024
