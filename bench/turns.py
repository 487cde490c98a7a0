"""Full-stack REST turns (channel → Rasa → action → DB → reply) against bare Rasa REST turns with a custom action.

Both run in the same process run, one after the other, on the same machine:
    .venv/bin/python -m bench.turns [--seconds 15] [--levels 1,10,50] [--profiles embedded,production-1,production-2]
Prints p50/p99 latency and turns/s per concurrency level, RSS of every process, and the ratios.
Profiles: ``embedded`` (SQLite, in-process queues), ``production-N`` (config.production.yml on the
machine's PostgreSQL and Redis with N application workers and N Rasa server workers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.load import LoadResult, closed_loop, measured_closed_loop, process_tree_rss_mb
from bot.settings import PROJECT_ROOT
from tests.conftest import throwaway_postgres_database
from tests.e2e.stack import RunningStack, free_port, start_stack

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
        results.append(measured_closed_loop(url, level, seconds, f"{prefix}-{level}"))
    return results


@contextlib.contextmanager
def profile_stack(profile: str, work: Path) -> Iterator[RunningStack]:
    """Start the stack of a profile; PostgreSQL databases are created for the run and dropped after."""
    if profile == "embedded":
        # The per-patient flood limit would answer a closed-loop sender without asking Rasa.
        running = start_stack(work / profile, MC_RATE_LIMIT_PER_MINUTE="100000")
        try:
            yield running
        finally:
            running.stack.stop()
        return
    workers = int(profile.rsplit("-", 1)[1])
    with throwaway_postgres_database("mc_bench") as app_db, throwaway_postgres_database("mc_bench_tracker") as tracker:
        running = start_stack(
            work / profile, database_url=app_db, workers=workers,
            MC_CONFIG_FILE=str(PROJECT_ROOT / "config.production.yml"), MC_ENVIRONMENT="production",
            MC_SECRET_KEY=secrets.token_hex(24), MC_RASA_TOKEN=secrets.token_hex(24), MC_HTTP__HOST="127.0.0.1",
            MC_RASA__TRACKER_STORE_URL=tracker.replace("postgresql+psycopg://", "postgresql://"),
            MC_RASA__LOCK_STORE_URL="redis://127.0.0.1:6379/13", MC_REDIS__URL="redis://127.0.0.1:6379/14",
            MC_RATE_LIMIT_PER_MINUTE="100000", MC_RASA__WORKERS=str(workers),
        )
        try:
            yield running
        finally:
            running.stack.stop()


def describe(name: str, results: list[LoadResult]) -> None:
    for r in results:
        print(
            f"{name:10s} c={r.concurrency:3d}  turns={r.turns:5d} errors={r.errors:3d}  "
            f"{r.throughput:6.1f} turns/s  p50={r.p50 * 1000:7.1f} ms  p99={r.percentile(99) * 1000:7.1f} ms  "
            f"cores busy {r.cores_busy:4.2f}/{os.cpu_count()}  load generator {r.loadgen_ms_per_turn:4.1f} ms CPU/turn"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--profiles", default="embedded", help="embedded, production-1, production-2 (comma list)")
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

    results: dict[str, list[LoadResult]] = {}
    memory: dict[str, dict[str, float]] = {}
    for profile in args.profiles.split(","):
        with profile_stack(profile, work) as running:
            results[profile] = run_levels(f"{running.url}/webhooks/rest/webhook", levels, args.seconds, profile)
            memory[profile] = {
                name: process_tree_rss_mb(process.popen.pid)
                for name, process in running.stack.processes.items()
                if process.popen is not None
            }

    print("\n== REST turns, closed loop ==")
    describe("bare-rasa", baseline)
    for profile, measured in results.items():
        describe(profile, measured)
    print("\n== ratios against bare Rasa (targets: p99 <= 1.3x, throughput >= 0.9x) ==")
    for profile, measured in results.items():
        for b, f in zip(baseline, measured, strict=True):
            print(
                f"{profile:13s} c={b.concurrency:3d}  throughput {f.throughput / b.throughput:5.2f}x   "
                f"p50 {f.p50 / b.p50:5.2f}x   p99 {f.percentile(99) / b.percentile(99):5.2f}x"
            )
    if "production-1" in results and "production-2" in results:
        print("\n== two workers against one (target: throughput >= 1.5x) ==")
        for one, two in zip(results["production-1"], results["production-2"], strict=True):
            print(f"c={one.concurrency:3d}  throughput {two.throughput / one.throughput:5.2f}x")
    print("\n== RSS (MB) ==")
    for name, mb in baseline_rss.items():
        print(f"{name:28s} {mb:8.1f}")
    print(f"{'bare Rasa total':28s} {sum(baseline_rss.values()):8.1f}")
    for profile, processes in memory.items():
        for name, mb in processes.items():
            print(f"{profile + ' ' + name:28s} {mb:8.1f}")
        print(f"{profile + ' total':28s} {sum(processes.values()):8.1f}  (target < 1536)")


if __name__ == "__main__":
    main()
