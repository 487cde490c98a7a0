"""Full-stack REST turns (channel → Rasa → action → DB → reply) against bare Rasa REST turns with a custom action.

Both run in the same process run, one after the other, on the same machine:
    .venv/bin/python -m bench.turns [--seconds 15] [--levels 1,10,50]
Prints p50/p99 latency and turns/s per concurrency level, RSS of every process, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.load import LoadResult, closed_loop, process_tree_rss_mb
from bot.settings import PROJECT_ROOT
from tests.e2e.stack import free_port, start_stack

BASELINE_DIR = PROJECT_ROOT.parent / "shared" / "bench" / "baseline-bot"


def start_baseline(work: Path) -> tuple[str, list[int]]:
    """Start the bare-Rasa baseline bot; return its REST URL and the PIDs of Rasa and its action server."""
    rasa_port, action_port = free_port(), free_port()
    env = {**os.environ, "BASELINE_WORK": str(work), "BASELINE_DB": str(work / "kb.sqlite")}
    output = subprocess.run(
        ["bash", str(BASELINE_DIR / "run.sh"), str(PROJECT_ROOT / ".venv-rasa"), str(rasa_port), str(action_port)],
        env=env, capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    pids = [int(line.split()[1]) for line in output.splitlines() if line.split()[:1] in (["actions"], ["rasa"])]
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, json={"sender": "warm", "message": "hello"}, timeout=10).status_code == 200:
                return url, pids
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("baseline did not answer")


def run_levels(url: str, levels: list[int], seconds: float, prefix: str) -> list[LoadResult]:
    results = []
    for level in levels:
        asyncio.run(closed_loop(url, min(level, 5), 3, f"{prefix}-warm-{level}"))
        results.append(asyncio.run(closed_loop(url, level, seconds, f"{prefix}-{level}")))
    return results


def describe(name: str, results: list[LoadResult]) -> None:
    for r in results:
        print(
            f"{name:10s} c={r.concurrency:3d}  turns={r.turns:5d} errors={r.errors:3d}  "
            f"{r.throughput:6.1f} turns/s  p50={r.p50 * 1000:7.1f} ms  p99={r.percentile(99) * 1000:7.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--levels", default="1,10,50")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="mc-bench-"))

    baseline_url, baseline_pids = start_baseline(work / "baseline")
    try:
        baseline = run_levels(baseline_url, levels, args.seconds, "base")
        baseline_rss = {f"baseline pid {pid}": process_tree_rss_mb(pid) for pid in baseline_pids}
    finally:
        for pid in baseline_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    running = start_stack(work / "full")
    try:
        full = run_levels(f"{running.url}/webhooks/rest/webhook", levels, args.seconds, "full")
        full_rss = {
            name: process_tree_rss_mb(process.popen.pid)
            for name, process in running.stack.processes.items()
            if process.popen is not None
        }
    finally:
        running.stack.stop()

    print("\n== REST turns, closed loop ==")
    describe("bare-rasa", baseline)
    describe("full", full)
    print("\n== ratios full / bare Rasa (targets: p99 <= 1.3x, throughput >= 0.9x) ==")
    for b, f in zip(baseline, full, strict=True):
        print(
            f"c={b.concurrency:3d}  throughput {f.throughput / b.throughput:5.2f}x   "
            f"p50 {f.p50 / b.p50:5.2f}x   p99 {f.percentile(99) / b.percentile(99):5.2f}x"
        )
    print("\n== RSS (MB) ==")
    for name, mb in {**baseline_rss, **full_rss}.items():
        print(f"{name:22s} {mb:8.1f}")
    print(f"full stack total       {sum(full_rss.values()):8.1f}  (target < 1536)")
    print(f"bare Rasa total        {sum(baseline_rss.values()):8.1f}")


if __name__ == "__main__":
    main()
