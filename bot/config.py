"""Settings from the environment and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_API_BASE = "https://api.telegram.org"
SUPPORTED_LOCALES = ("zh_CN", "en")


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_base: str = OFFICIAL_API_BASE
    database_url: str = "sqlite:///data/volunteer.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    # Updates handled at once; each may hold two database connections (its own
    # session and the dialog storage's), and the pool is sized to match.
    update_concurrency: int = Field(default=16, ge=1, le=256)
    # Waitlist: a freed seat is offered for this long, and never past this lead time
    # before the start; cancellations this close to the start are told to staff.
    offer_hours: float = Field(default=12, gt=0)
    offer_lead_hours: float = Field(default=2, ge=0)
    late_cancel_hours: float = Field(default=24, ge=0)
    # A station tree loaded into an empty database in the sandbox.
    sandbox_stations: Path = Field(default=Path("examples/stations.yaml"))

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        head, _, tail = value.get_secret_value().partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("does not look like a bot token (digits:secret)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def describe_error(exc: Exception) -> str:
    """One line naming what is wrong with the settings, without a traceback."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for err in errors():
            field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
            parts.append(f"{field.upper()}: {err.get('msg', 'invalid')}")
        return "invalid settings: " + "; ".join(parts)
    return f"invalid settings: {exc}"
