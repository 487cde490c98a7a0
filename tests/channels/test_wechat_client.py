"""The WeChat API client: one shared token, refreshed early and once on expiry; errors mapped for the outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.channels.base import DeliveryError, RecipientUnreachable, TransientDeliveryError
from bot.channels.wechat_client import OUTSIDE_WINDOW, WeChatApi
from bot.channels.wechat_menu import build_menu
from bot.channels.wechat_session import DatabaseSessionStorage, LeasingRedisStorage, TokenStorage
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.wechat_fixtures import fake_wechat
from tests.conftest import REDIS_TEST_URL

__all__ = ["fake_wechat"]


@pytest.fixture(params=["database", "redis"])
def storage(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[TokenStorage]:
    """The token storage of a deployment without Redis (database) and with it (wechatpy's RedisStorage)."""
    if request.param == "database":
        db_storage = DatabaseSessionStorage(sqlite_url)
        yield db_storage
        db_storage.close()
        return
    prefix = f"mc-test-{time.time_ns()}"
    redis_storage = LeasingRedisStorage(REDIS_TEST_URL, prefix=prefix)
    yield redis_storage
    client = redis.Redis.from_url(REDIS_TEST_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _api(fake: FakeWeChat, storage: TokenStorage) -> WeChatApi:
    return WeChatApi(APP_ID, APP_SECRET, fake.base_url, storage, timeout=5.0)


async def test_workers_share_one_token(fake_wechat: FakeWeChat, storage: TokenStorage) -> None:
    first, second = _api(fake_wechat, storage), _api(fake_wechat, storage)
    await first.send_text("openid-a", "one")
    await second.send_text("openid-a", "two")
    assert fake_wechat.state.tokens_issued == 1
    assert fake_wechat.sent_texts() == ["one", "two"]
    first.close()
    second.close()


async def test_the_token_is_refreshed_before_it_expires(fake_wechat: FakeWeChat, storage: TokenStorage) -> None:
    fake_wechat.state.expires_in = 200  # already inside the 5-minute refresh margin
    api = _api(fake_wechat, storage)
    await api.send_text("openid-a", "one")
    await api.send_text("openid-a", "two")
    assert fake_wechat.state.tokens_issued == 2  # a fetch per call: each token was due for renewal
    fake_wechat.state.expires_in = 7200
    await api.send_text("openid-a", "three")
    await api.send_text("openid-a", "four")
    assert fake_wechat.state.tokens_issued == 3  # the 7200 s token is reused
    assert fake_wechat.sent_texts() == ["one", "two", "three", "four"]
    api.close()


async def test_an_expired_token_is_refreshed_once(fake_wechat: FakeWeChat, storage: TokenStorage) -> None:
    api = _api(fake_wechat, storage)
    await api.send_text("openid-a", "before")
    fake_wechat.expire_tokens()
    await api.send_text("openid-a", "after")
    assert fake_wechat.sent_texts() == ["before", "after"]
    assert fake_wechat.state.tokens_issued == 2
    api.close()


async def test_delivery_errors_are_mapped_for_the_outbox(fake_wechat: FakeWeChat, sqlite_url: str) -> None:
    storage = DatabaseSessionStorage(sqlite_url)
    api = _api(fake_wechat, storage)
    fake_wechat.fail_next_sends(45015)
    with pytest.raises(RecipientUnreachable, match="48-hour") as unreachable:
        await api.send_text("openid-a", "x")
    assert str(unreachable.value) == OUTSIDE_WINDOW
    fake_wechat.fail_next_sends(45009)
    with pytest.raises(TransientDeliveryError) as quota:
        await api.send_text("openid-a", "x")
    assert quota.value.retry_after == 300.0
    fake_wechat.fail_next_sends(-1)
    with pytest.raises(TransientDeliveryError):
        await api.send_text("openid-a", "x")
    fake_wechat.fail_next_sends(45002)
    with pytest.raises(DeliveryError, match="45002"):
        await api.send_text("openid-a", "x")
    assert fake_wechat.sent_texts() == []
    api.close()
    storage.close()


async def test_a_down_api_is_a_transient_error(sqlite_url: str) -> None:
    storage = DatabaseSessionStorage(sqlite_url)
    api = WeChatApi(APP_ID, APP_SECRET, "http://127.0.0.1:9/cgi-bin/", storage, timeout=1.0)
    with pytest.raises(TransientDeliveryError):
        await api.send_text("openid-a", "x")
    api.close()
    storage.close()


def test_push_menu_command(fake_wechat: FakeWeChat, sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                           tmp_path: Path) -> None:
    from bot.cli import main
    from bot.settings import get_settings

    monkeypatch.setenv("MC_DATABASE__URL", sqlite_url)
    monkeypatch.setenv("MC_WECHAT__API_BASE_URL", fake_wechat.base_url)
    monkeypatch.setenv("MC_WECHAT__APP_ID", APP_ID)
    monkeypatch.setenv("MC_WECHAT__APP_SECRET", APP_SECRET)
    monkeypatch.setenv("MC_WECHAT__TOKEN", "t")
    monkeypatch.delenv("MC_REDIS__URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["wechat", "push-menu"]) == 0
        assert fake_wechat.state.menus == [build_menu(get_settings().wechat.menu)]
    finally:
        get_settings.cache_clear()
