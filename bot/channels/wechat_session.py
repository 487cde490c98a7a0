"""wechatpy session storages shared by every worker, with a lease so one worker refreshes the token.

wechatpy's client is synchronous and reads the access token through a ``SessionStorage``.
Production uses wechatpy's own ``RedisStorage`` (plus ``SET NX`` leases); without Redis the
``wechat_state`` table of the application database plays the same role.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import create_engine, delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.channels.wechat_models import WeChatState
from bot.storage.database import install_sqlite_pragmas, sync_url
from bot.storage.models import utcnow

SESSION_PREFIX = "session:"
LEASE_PREFIX = "lease:"


class TokenStorage(Protocol):
    """A wechatpy ``SessionStorage`` that can also hand out a short exclusive lease."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any, ttl: int | None = None) -> None: ...

    def delete(self, key: str) -> None: ...

    def acquire(self, name: str, ttl_seconds: int) -> bool:
        """Take the lease ``name`` for at most ``ttl_seconds``; False when someone holds it."""
        ...

    def release(self, name: str) -> None: ...


class LeasingRedisStorage(RedisStorage):  # type: ignore[misc]
    """wechatpy's ``RedisStorage`` plus ``SET NX EX`` leases."""

    def __init__(self, url: str, prefix: str = "mc:wechatpy") -> None:
        import redis

        super().__init__(redis.Redis.from_url(url), prefix=prefix)

    def acquire(self, name: str, ttl_seconds: int) -> bool:
        return bool(self.redis.set(self.key_name(LEASE_PREFIX + name), "1", nx=True, ex=ttl_seconds))

    def release(self, name: str) -> None:
        self.redis.delete(self.key_name(LEASE_PREFIX + name))


class DatabaseSessionStorage(SessionStorage):  # type: ignore[misc]
    """wechatpy ``SessionStorage`` on the ``wechat_state`` table (synchronous: wechatpy runs in threads)."""

    def __init__(self, database_url: str) -> None:
        self._engine: Engine = create_engine(sync_url(database_url), pool_pre_ping=True)
        install_sqlite_pragmas(self._engine)
        self._local = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        query = select(WeChatState.value).where(
            WeChatState.key == SESSION_PREFIX + key,
            or_(WeChatState.expires_at.is_(None), WeChatState.expires_at > utcnow()),
        )
        with Session(self._engine) as session:
            value = session.execute(query).scalar_one_or_none()
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is None:
            return
        expires_at = utcnow() + timedelta(seconds=ttl) if ttl else None
        # The lock only orders this process's threads; the primary key orders workers.
        with self._local, Session(self._engine) as session, session.begin():
            row = session.get(WeChatState, SESSION_PREFIX + key)
            if row is None:
                session.add(WeChatState(key=SESSION_PREFIX + key, value=value, expires_at=expires_at))
            else:
                row.value = value
                row.expires_at = expires_at

    def delete(self, key: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WeChatState).where(WeChatState.key == SESSION_PREFIX + key))

    def acquire(self, name: str, ttl_seconds: int) -> bool:
        key = LEASE_PREFIX + name
        now = utcnow()
        try:
            with Session(self._engine) as session, session.begin():
                session.execute(delete(WeChatState).where(WeChatState.key == key, WeChatState.expires_at <= now))
                session.add(WeChatState(key=key, value=None, expires_at=now + timedelta(seconds=ttl_seconds)))
        except IntegrityError:
            return False
        return True

    def release(self, name: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WeChatState).where(WeChatState.key == LEASE_PREFIX + name))

    def close(self) -> None:
        self._engine.dispose()


def build_token_storage(redis_url: str | None, database_url: str) -> TokenStorage:
    """Redis (wechatpy's RedisStorage) when configured, else the application database."""
    if redis_url:
        return LeasingRedisStorage(redis_url)
    return DatabaseSessionStorage(database_url)
