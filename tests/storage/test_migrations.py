"""Alembic migrates a fresh database up to every head and back down to nothing."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from bot.storage import all_models  # noqa: F401
from bot.storage.database import sync_url
from bot.storage.migrate import downgrade, upgrade
from bot.storage.models import Base


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/migrate.db"
    upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
    downgrade(url, "base")
    assert _tables(url) == set()


def test_postgresql_is_migrated_to_the_models(postgres_url: str) -> None:
    assert _tables(postgres_url) == set(Base.metadata.tables)
