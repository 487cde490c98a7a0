"""The development demo account (never in production) and the create-admin command."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.console.demo import DEMO_EMAIL, ensure_demo_account
from bot.console.security import verify_password
from bot.handoff.models import Coordinator, Role
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.database import Database
from tests.conftest import ScriptedEngine
from tests.console.conftest import build_harness


def _settings(environment: str, database_url: str) -> Settings:
    secrets = {"secret_key": "s" * 32, "rasa_token": "r" * 32} if environment == "production" else {}
    return Settings(environment=environment, database={"url": database_url}, **secrets)


async def _accounts(database: Database) -> list[Coordinator]:
    async with database.session() as session:
        return list((await session.execute(select(Coordinator))).scalars())


async def test_demo_account_in_development_printed_once_at_warning(
    database: Database, database_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.console.demo")
    password = await ensure_demo_account(_settings("development", database_url), database)
    assert password is not None
    [account] = await _accounts(database)
    assert account.email == DEMO_EMAIL and account.role is Role.ADMIN
    assert verify_password(account.password_hash, password)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and password in r.getMessage()]
    assert len(warnings) == 1
    assert await ensure_demo_account(_settings("development", database_url), database) is None
    assert len([r for r in caplog.records if password in r.getMessage()]) == 1


@pytest.mark.parametrize("environment", ["production", "test"])
async def test_no_demo_account_outside_development(database: Database, database_url: str, environment: str) -> None:
    assert await ensure_demo_account(_settings(environment, database_url), database) is None
    assert await _accounts(database) == []


async def test_no_demo_account_when_an_account_exists(database: Database, database_url: str) -> None:
    async with database.session() as session:
        session.add(Coordinator(email="boss@example.org", display_name="Boss", password_hash="x", role=Role.ADMIN))
    assert await ensure_demo_account(_settings("development", database_url), database) is None
    assert [a.email for a in await _accounts(database)] == ["boss@example.org"]


async def test_application_start_creates_it_only_in_development(database_url: str) -> None:
    development = build_harness(database_url, ScriptedEngine(), environment="development")
    try:
        assert "console-demo-account" in development.runtime.background_jobs
        await development.runtime.background_jobs["console-demo-account"]()
        assert [a.email for a in await _accounts(development.database)] == [DEMO_EMAIL]
    finally:
        await development.database.dispose()
    for environment in ("test", "production"):
        secrets = {"secret_key": "s" * 32, "rasa_token": "r" * 32} if environment == "production" else {}
        built = build_harness(database_url, ScriptedEngine(), environment=environment, **secrets)
        try:
            assert "console-demo-account" not in built.runtime.background_jobs
        finally:
            await built.database.dispose()


def _create_admin(
    database_url: str, password: str, email: str = "root@example.org",
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MC_DATABASE__URL": database_url, "MC_ADMIN_PASSWORD": password,
           "MC_ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "create-admin", "--email", email, "--name", "Root"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


async def test_create_admin_command(database: Database, database_url: str) -> None:
    weak = _create_admin(database_url, "short-pw")
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    assert await _accounts(database) == []
    done = _create_admin(database_url, "a strong admin password")
    assert done.returncode == 0, done.stderr
    [admin] = await _accounts(database)
    assert admin.email == "root@example.org" and admin.role is Role.ADMIN and admin.display_name == "Root"
    assert admin.password_hash.startswith("$argon2id$")
    assert verify_password(admin.password_hash, "a strong admin password")
    again = _create_admin(database_url, "a strong admin password")
    assert again.returncode == 1 and "already exists" in again.stderr
