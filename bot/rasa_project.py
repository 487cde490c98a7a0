"""The Rasa project on disk: fingerprinted training and the endpoint files Rasa is started with."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.settings import Settings, resolve_sqlite_url

RASA_VERSION = "3.6.21"


def fingerprint(project_dir: Path) -> str:
    """A hash of every file of the Rasa project (and the Rasa version): same input, same model."""
    digest = hashlib.sha256(RASA_VERSION.encode())
    for path in sorted(p for p in project_dir.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".txt"}):
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    project = settings.path(settings.rasa.project_dir)
    return settings.path(settings.rasa.model_dir) / f"model-{fingerprint(project)}.tar.gz"


def ensure_model(settings: Settings, log: Path | None = None) -> tuple[Path, bool]:
    """Train only when no model exists for the current project fingerprint; return (path, trained)."""
    target = model_path(settings)
    if target.exists():
        return target, False
    project = settings.path(settings.rasa.project_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.path(settings.rasa.python)), "-m", "rasa", "train",
        "--config", str(project / "config.yml"),
        "--domain", str(project / "domain"),
        "--data", str(project / "data"),
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    log_file = log or settings.path(settings.var_dir) / "rasa-train.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=project, check=False)
    if result.returncode != 0 or not target.exists():
        raise RuntimeError(f"rasa train failed (exit {result.returncode}); see {log_file}")
    return target, True


# Rasa's SQL store, keeping the latest trackers in memory (dialogs/rasa_addons/tracker_store.py).
TRACKER_STORE_TYPE = "rasa_addons.tracker_store.CachedSQLTrackerStore"
# Rasa falls back to an in-memory store, with only this warning, when the class cannot be imported.
TRACKER_STORE_MISSING = f"Tracker store with type '{TRACKER_STORE_TYPE}' not found"


def rasa_python_path(settings: Settings) -> str:
    """PYTHONPATH for the Rasa server: the project directory holds its add-ons."""
    return str(settings.path(settings.rasa.project_dir))


def tracker_store_config(url: str, settings: Settings) -> dict[str, object]:
    """Rasa's SQL tracker store (with its in-memory cache) for a SQLite file or a PostgreSQL database."""
    url = resolve_sqlite_url(url, settings)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": path}
    parts = urlsplit(url)
    config: dict[str, object] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/"),
    }
    if parts.username:
        config["username"] = parts.username
    if parts.password:
        config["password"] = parts.password
    return config


def lock_store_config(url: str | None) -> dict[str, object] | None:
    """Rasa's Redis lock store, so several Rasa instances serialise one conversation."""
    if not url:
        return None
    parts = urlsplit(url)
    config: dict[str, object] = {"type": "redis", "url": parts.hostname or "127.0.0.1", "port": parts.port or 6379}
    db = parts.path.lstrip("/")
    config["db"] = int(db) if db else 0
    if parts.password:
        config["password"] = parts.password
    return config


def write_endpoint_files(settings: Settings, directory: Path) -> tuple[Path, Path]:
    """Write endpoints.yml and credentials.yml for this configuration; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, object] = {
        "action_endpoint": {"url": f"{settings.actions.url}/webhook"},
        "tracker_store": tracker_store_config(settings.rasa.tracker_store_url, settings),
    }
    lock_store = lock_store_config(settings.rasa.lock_store_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    endpoints_file = directory / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=True))
    credentials_file = directory / "credentials.yml"
    credentials_file.write_text(yaml.safe_dump({"rest": None}))
    return endpoints_file, credentials_file
