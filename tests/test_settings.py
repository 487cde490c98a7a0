"""Settings: config file + environment, readable errors, no default secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEV_SECRET, SettingsError, load_settings


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.yml"
    path.write_text("environment: development\n")
    monkeypatch.setenv("MC_CONFIG_FILE", str(path))
    for name in ("MC_ENVIRONMENT", "MC_SECRET_KEY", "MC_RASA_TOKEN", "MC_RASA__PORT"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_defaults_are_safe_for_one_machine(config_file: Path) -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.rasa.host == "127.0.0.1"
    assert not settings.telegram.enabled and not settings.wechat.enabled


def test_environment_overrides_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text("rasa:\n  port: 5006\n")
    monkeypatch.setenv("MC_RASA__PORT", "5099")
    assert load_settings().rasa.port == 5099


def test_bad_value_names_the_field(config_file: Path) -> None:
    config_file.write_text("rasa:\n  port: not-a-number\n")
    with pytest.raises(SettingsError, match=r"rasa\.port"):
        load_settings()


def test_rasa_must_stay_on_loopback(config_file: Path) -> None:
    config_file.write_text("rasa:\n  host: 0.0.0.0\n")
    with pytest.raises(SettingsError, match="loopback"):
        load_settings()


def test_production_refuses_default_secrets(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings()
    monkeypatch.setenv("MC_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("MC_RASA_TOKEN", DEV_SECRET)
    with pytest.raises(SettingsError, match="rasa_token"):
        load_settings()
    monkeypatch.setenv("MC_RASA_TOKEN", "y" * 32)
    assert load_settings().environment == "production"


def test_unknown_language_is_refused(config_file: Path) -> None:
    config_file.write_text("languages: [en, fr]\n")
    with pytest.raises(SettingsError, match="languages"):
        load_settings()


def test_several_rasa_workers_need_the_redis_lock_store(config_file: Path) -> None:
    config_file.write_text("rasa:\n  workers: 2\n")
    with pytest.raises(SettingsError, match="lock_store_url"):
        load_settings()
    config_file.write_text("rasa:\n  workers: 2\n  lock_store_url: redis://127.0.0.1:6379/1\n")
    assert load_settings().rasa.workers == 2
