"""Run the whole stack on this machine: action server, Rasa and the application, supervised.

Used by ``make run`` (``python -m bot run``), by the end-to-end tests and by the benchmarks.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.rasa_project import TRACKER_STORE_MISSING, ensure_model, rasa_python_path, write_endpoint_files
from bot.settings import DEV_SECRET, PROJECT_ROOT, Settings
from bot.storage.migrate import upgrade


@dataclass
class Process:
    """One supervised child process and where its output goes."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    health_url: str
    fatal_log_line: str | None = None  # healthy but misconfigured when the log says this
    popen: subprocess.Popen[bytes] | None = None
    log_offset: int = 0  # where this start's output begins in the (appended) log

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.log_offset = handle.tell()
        self.popen = subprocess.Popen(
            self.command, env=self.env, stdout=handle, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
            start_new_session=True,
        )
        handle.close()

    def check_log(self) -> None:
        """Refuse a process that started but logged its ``fatal_log_line``."""
        if self.fatal_log_line and self.log.exists():
            with self.log.open("rb") as handle:
                handle.seek(self.log_offset)
                output = handle.read().decode("utf-8", errors="replace")
            if self.fatal_log_line in output:
                self.stop()
                raise RuntimeError(f"{self.name} is misconfigured ({self.fatal_log_line}); see {self.log}")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process group: a crash, with no chance to clean up."""
        if self.alive():
            assert self.popen is not None
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Stack:
    """Action server, Rasa server and application processes for one configuration."""

    settings: Settings
    env: dict[str, str]
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def app_url(self) -> str:
        return f"http://{self.settings.http.host}:{self.settings.http.port}"

    def start(self, names: tuple[str, ...] = ("actions", "rasa", "app"), timeout: float = 180.0) -> None:
        for name in names:
            self.processes[name].start()
        self.wait_healthy(names, timeout)

    def wait_healthy(self, names: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            process = self.processes[name]
            if not process.alive():
                raise RuntimeError(f"{name} exited during start-up; see {process.log}")
            try:
                healthy = httpx.get(process.health_url, timeout=2.0).status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy:
                process.check_log()
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy after {timeout:.0f} s; see {process.log}")
            time.sleep(0.3)

    def restart(self, name: str, timeout: float = 180.0) -> None:
        self.processes[name].stop()
        self.start((name,), timeout)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()


def child_environment(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every child: same config, a shared Rasa token (random in development)."""
    env = dict(os.environ)
    env.update(extra or {})
    if settings.rasa_token.get_secret_value() == DEV_SECRET and "MC_RASA_TOKEN" not in (extra or {}):
        env["MC_RASA_TOKEN"] = secrets.token_hex(24)  # never starts with "-" (an argparse option)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def action_server_args(port: int) -> list[str]:
    """The action server's command line after the interpreter (deploy's compose file runs the same)."""
    return ["-m", "rasa_sdk", "--actions", "bot.actions", "-p", str(port), "--quiet"]


def rasa_server_args(
    model: Path | str, token: str, host: str, port: int, endpoints: Path | str, credentials: Path | str
) -> list[str]:
    """The Rasa server's command line after the Rasa venv's interpreter (deploy's Rasa image runs the same)."""
    return [
        "-m", "rasa_addons.server", "run", "-m", str(model), "--enable-api", f"--auth-token={token}",
        "-i", host, "-p", str(port), "--endpoints", str(endpoints), "--credentials", str(credentials),
    ]


def build_stack(settings: Settings, env: dict[str, str], run_dir: Path, workers: int = 1) -> Stack:
    """Prepare the model, the database and the three processes (not started)."""
    model, _trained = ensure_model(settings)
    upgrade(settings.database_url)
    endpoints, credentials = write_endpoint_files(settings, run_dir)
    python = sys.executable
    rasa_token = env["MC_RASA_TOKEN"] if "MC_RASA_TOKEN" in env else settings.rasa_token.get_secret_value()
    actions_env = {**env, "SANIC_HOST": settings.actions.host}
    stack = Stack(settings, env)
    stack.processes["actions"] = Process(
        "actions",
        [python, *action_server_args(settings.actions.port)],
        actions_env, run_dir / "actions.log", f"{settings.actions.url}/health",
    )
    stack.processes["rasa"] = Process(
        "rasa",
        [
            str(settings.path(settings.rasa.python)),
            *rasa_server_args(model, rasa_token, settings.rasa.host, settings.rasa.port, endpoints, credentials),
        ],
        {**env, "PYTHONPATH": rasa_python_path(settings), "SANIC_WORKERS": str(settings.rasa.workers)},
        run_dir / "rasa.log",
        f"{settings.rasa.url}/status?token={rasa_token}", fatal_log_line=TRACKER_STORE_MISSING,
    )
    stack.processes["app"] = Process(
        "app",
        [
            python, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", settings.http.host,
            "--port", str(settings.http.port), "--workers", str(workers), "--no-access-log",
        ],
        env, run_dir / "app.log", f"http://{settings.http.host}:{settings.http.port}/healthz",
    )
    return stack


def demo_login_lines(app_log: Path, offset: int = 0) -> list[str]:
    """The first-run demo console login the application logged after ``offset`` (development only)."""
    import json

    lines = []
    if app_log.exists():
        with app_log.open("rb") as handle:
            handle.seek(offset)
            written = handle.read().decode(errors="replace")
        for raw in written.splitlines():
            if "demo account created" not in raw:
                continue
            try:
                lines.append(str(json.loads(raw).get("message", raw)))
            except ValueError:
                lines.append(raw.strip())
    return lines[-1:]


def run_forever(stack: Stack) -> int:
    """Start everything, print the URLs, supervise until Ctrl-C (or SIGTERM), then stop cleanly."""
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    app_log = stack.processes["app"].log
    log_offset = app_log.stat().st_size if app_log.exists() else 0
    try:
        stack.start()
        print(f"MedConcierge is up. Chat page: {stack.app_url}/   console: {stack.app_url}/console/login", flush=True)
        print(f"  terminal chat: python -m bot shell   REST: {stack.app_url}/webhooks/rest/webhook   health: /healthz",
              flush=True)
        print(f"  logs: {stack.processes['app'].log}   Ctrl-C stops", flush=True)
        for line in demo_login_lines(app_log, log_offset):
            print(f"  {line}", flush=True)
        while not stopping:
            for process in stack.processes.values():
                if not process.alive():
                    print(f"{process.name} stopped unexpectedly; see {process.log}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        stack.stop()
        print("MedConcierge stopped.", flush=True)
