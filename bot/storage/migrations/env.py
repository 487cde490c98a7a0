"""Alembic environment: the URL comes from ``config.attributes['url']`` or the application settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.storage import all_models  # noqa: F401  (registers every table on Base.metadata)
from bot.storage.database import install_sqlite_pragmas, sync_url
from bot.storage.models import Base

config = context.config


def _url() -> str:
    url = config.attributes.get("url")
    if url is None:
        from bot.settings import get_settings

        url = get_settings().database_url
    return sync_url(str(url))


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url())
    install_sqlite_pragmas(engine)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
