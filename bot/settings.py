"""Application settings: ``config.yml`` overlaid by ``MC_*`` environment variables.

Secrets (tokens, keys) are read only from the environment. In production mode the
application refuses to start with a missing or default secret.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LANGUAGES = ("en", "zh", "ru", "ar", "ko", "ja")
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 (refused outside development)


class DatabaseSettings(BaseModel):
    """Where the application data lives (SQLite by default, PostgreSQL in production)."""

    url: str = "sqlite:///var/medconcierge.db"
    echo: bool = False


class RasaSettings(BaseModel):
    """How the application reaches the Rasa server (always on loopback)."""

    host: str = "127.0.0.1"
    port: int = Field(5005, ge=1, le=65535)
    timeout_seconds: float = Field(10.0, gt=0)
    # Turns one application worker has at Rasa at once (the rest wait in order, see RasaEngine).
    max_in_flight: int = Field(4, ge=1, le=256)
    model_dir: str = "var/models"
    tracker_store_url: str = "sqlite:///var/rasa_tracker.db"
    lock_store_url: str | None = None
    # Rasa server processes behind the one port (Sanic workers); more than one needs the Redis lock store.
    workers: int = Field(1, ge=1, le=16)
    # The Rasa venv's interpreter: trains with `-m rasa`, serves with `-m rasa_addons.server` (dialogs/).
    python: str = ".venv-rasa/bin/python"
    project_dir: str = "dialogs"

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the Rasa API must stay on loopback (127.0.0.1, localhost or ::1)")
        return host

    @model_validator(mode="after")
    def _workers_need_a_shared_lock_store(self) -> RasaSettings:
        if self.workers > 1 and not self.lock_store_url:
            raise ValueError("rasa.workers > 1 needs rasa.lock_store_url (Redis): Rasa would run one worker")
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class ActionServerSettings(BaseModel):
    """The rasa-sdk action server (bot.actions), on loopback."""

    host: str = "127.0.0.1"
    port: int = Field(5055, ge=1, le=65535)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class HttpSettings(BaseModel):
    """The application's own HTTP server (REST channel, webhooks, console)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str | None = None
    cors_origins: list[str] = Field(default_factory=list)


class RestChannelSettings(BaseModel):
    """Limits of the REST channel."""

    max_message_chars: int = Field(4096, ge=1)


class TelegramSettings(BaseModel):
    """Telegram channel; on only when a bot token is set in the environment."""

    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    max_attachment_bytes: int = Field(20 * 1024 * 1024, ge=1)
    # Telegram's flood limit for the whole bot (messages per second); 0 turns PTB's limiter off.
    max_messages_per_second: float = Field(30.0, ge=0)
    polling_timeout_seconds: int = Field(25, ge=0, le=50)

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> TelegramSettings:
        # Without the secret anyone who guesses the URL could post forged updates.
        if self.enabled and self.mode == "webhook":
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
                raise ValueError(
                    "webhook_secret: webhook mode needs MC_TELEGRAM__WEBHOOK_SECRET set to 16-256 characters "
                    "of A-Z, a-z, 0-9, _ and -"
                )
        return self


class WeChatSettings(BaseModel):
    """WeChat official account channel; on only when app id and token are set."""

    api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    app_id: str | None = None
    app_secret: SecretStr | None = None
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    passive_reply_seconds: float = Field(3.0, gt=0, le=4.5)
    menu: list[dict[str, str]] = Field(default_factory=list)
    # WeChat tells us no language: used for the subscribe welcome and menu clicks of new patients.
    default_language: str = "zh"

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) and self.token is not None


class ConsoleSettings(BaseModel):
    """Coordinator console."""

    session_cookie: str = "mc_session"
    secure_cookies: bool = False
    session_hours: float = Field(12.0, gt=0)
    lockout_attempts: int = Field(5, ge=1)
    lockout_window_seconds: int = Field(300, ge=1)
    sla_hours: float = Field(24.0, gt=0)
    urgent_sla_hours: float = Field(1.0, gt=0)


class RedisSettings(BaseModel):
    """Redis for queues, dedupe, tokens and locks in production; unset means in-process."""

    url: str | None = None


class Settings(BaseSettings):
    """All settings of the application, validated at start."""

    model_config = SettingsConfigDict(
        env_prefix="MC_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    environment: Literal["development", "production", "test"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    var_dir: str = "var"
    languages: list[str] = Field(default_factory=lambda: list(SUPPORTED_LANGUAGES))
    default_language: str = "en"
    knowledge_dir: str = "knowledge"
    locales_dir: str = "locales"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    rasa_token: SecretStr = SecretStr(DEV_SECRET)
    rate_limit_per_minute: int = Field(30, ge=1)
    attachments_max_bytes: int = Field(20 * 1024 * 1024, ge=1)
    # Closed cases and their transcripts are deleted this many days after closing (None: kept).
    retention_days: int | None = Field(None, ge=1)

    database: DatabaseSettings = DatabaseSettings()
    rasa: RasaSettings = RasaSettings()
    actions: ActionServerSettings = ActionServerSettings()
    http: HttpSettings = HttpSettings()
    rest: RestChannelSettings = RestChannelSettings()
    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()
    console: ConsoleSettings = ConsoleSettings()
    redis: RedisSettings = RedisSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("MC_CONFIG_FILE", str(PROJECT_ROOT / "config.yml"))
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file)
        return (init_settings, env_settings, yaml_source)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, languages: list[str]) -> list[str]:
        unknown = sorted(set(languages) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ValueError(f"unsupported language(s) {unknown}; supported: {list(SUPPORTED_LANGUAGES)}")
        return languages

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("secret_key", "rasa_token"):
                value = getattr(self, name).get_secret_value()
                if value == DEV_SECRET or len(value) < 16:
                    raise ValueError(
                        f"{name}: production needs MC_{name.upper()} set in the environment "
                        "to a random value of at least 16 characters"
                    )
        if self.default_language not in self.languages:
            raise ValueError(f"default_language: {self.default_language!r} is not in languages")
        return self

    def path(self, relative: str) -> Path:
        """Resolve a path from the settings against the project root."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate

    @property
    def database_url(self) -> str:
        """Database URL with a relative SQLite path resolved against the project root."""
        return resolve_sqlite_url(self.database.url, self)


def resolve_sqlite_url(url: str, settings: Settings) -> str:
    """Turn ``sqlite:///relative/path`` into an absolute path under the project root."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(settings.path(url[len(prefix):]))
    return url


class SettingsError(RuntimeError):
    """Raised with a readable message when the configuration is invalid."""


def load_settings() -> Settings:
    """Load and validate settings, turning validation errors into one readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            lines.append(f"  {field}: {error['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached)."""
    return load_settings()
