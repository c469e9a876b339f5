"""Settings from the environment and an optional ``.env`` file."""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_API_BASE = "https://api.telegram.org"
# What Telegram accepts as a webhook's secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
SUPPORTED_LOCALES = ("zh_CN", "en")
# The proxies aiogram's session can go through (aiohttp-socks): HTTP CONNECT, SOCKS.
PROXY_SCHEMES = ("http", "socks4", "socks5")


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_base: str = OFFICIAL_API_BASE
    # `run` and `serve` reach TELEGRAM_API_BASE through this proxy when set:
    # http://, socks4:// or socks5://, with user:password@ if it needs them (hence a
    # secret). The sandbox never uses it: it talks to its own local stand-in.
    telegram_proxy: SecretStr | None = None
    # `volunteer-bot serve`: Telegram posts updates to WEBHOOK_URL (the public address;
    # the bot listens on its path), with WEBHOOK_SECRET in a header; the web server
    # listens on WEBHOOK_LISTEN_HOST:WEBHOOK_LISTEN_PORT, usually behind a reverse
    # proxy that terminates HTTPS. Several `serve` processes may share one address.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen_host: str = "127.0.0.1"
    webhook_listen_port: int = Field(default=8080, ge=1, le=65535)
    # Connections Telegram opens to the webhook at once (its limit is 100).
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    database_url: str = "sqlite:///data/volunteer.db"
    # Several `serve` workers share through Redis (bot.redis_shared): each person's
    # updates one at a time across workers, and the count of wrong check-in codes.
    # Without it each process keeps both in memory. Keys start with REDIS_PREFIX, so
    # several bots may share one Redis database.
    redis_url: str | None = None
    redis_prefix: str = Field(default="volunteer-bot", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    # Log lines as plain text, or as JSON objects (one a line) naming the update and
    # the person being served.
    log_format: Literal["text", "json"] = "text"
    # Health checks and Prometheus metrics over HTTP beside long polling (bot.health):
    # served only when a port is set (0: any free port).
    health_host: str = "127.0.0.1"
    health_port: int | None = Field(default=None, ge=0, le=65535)
    # Updates handled at once; each may hold two database connections (its own
    # session and the dialog storage's), and the pool is sized to match.
    update_concurrency: int = Field(default=16, ge=1, le=256)
    # People whose user and volunteer rows are kept in memory between their updates
    # (storage.people_cache), so an update from someone known costs no query. Writes
    # in this process empty it; set 0 when several processes serve the bot.
    user_cache_size: int = Field(default=10_000, ge=0)
    # Waitlist: a freed seat is offered for this long, and never past this lead time
    # before the start; cancellations this close to the start are told to staff.
    offer_hours: float = Field(default=12, gt=0)
    offer_lead_hours: float = Field(default=2, ge=0)
    late_cancel_hours: float = Field(default=24, ge=0)
    # Attendance and hours: star levels by cumulative confirmed hours (one to five
    # stars), and how many wrong check-in codes a person may type per 10 minutes.
    star_thresholds: Annotated[tuple[int, ...], NoDecode] = (100, 300, 600, 1000, 1500)
    checkin_attempts: int = Field(default=5, ge=1)
    # Records are due within this many working days of an activity's end; staff are
    # reminded daily until the activity is closed.
    records_due_working_days: int = Field(default=10, ge=1)
    # The key of certificate verification codes. By default the bot makes one and
    # keeps it in the database (services.certificate_key); set this to use your own.
    # Keep it stable: codes issued under one key check against it.
    certificate_secret: SecretStr | None = None
    # Delivery: everything the bot sends on its own goes through the outbox and one
    # paced sender: messages per second overall, seconds between two messages to one
    # chat, how long a claimed row may stay unconfirmed before it is tried again,
    # and how many times a network error or 5xx is retried.
    # (Telegram allows about 30 per second; more only with paid broadcasts.)
    send_rate: float = Field(default=25, gt=0, le=1000)
    send_chat_interval: float = Field(default=1.0, ge=0)
    send_concurrency: int = Field(default=8, ge=1, le=64)
    delivery_lease_seconds: float = Field(default=120, gt=0)
    delivery_max_attempts: int = Field(default=6, ge=1)
    # A reply Telegram does not take (5xx, a dropped connection) is tried again for
    # this many seconds; then it waits in the outbox until Telegram is back.
    reply_retry_seconds: float = Field(default=20, ge=0, le=300)
    # Reminders before an activity, in hours; quiet hours (station time) hold
    # non-urgent messages until the morning.
    reminder_hours: Annotated[tuple[float, ...], NoDecode] = (24, 2)
    quiet_hours: str = "22:00-07:00"
    # Pledges: the most one pledge may promise, in yuan, and the days after which an
    # open pledge is brought up once with the volunteer.
    pledge_ceiling_yuan: int = Field(default=5000, ge=1, le=10_000_000)
    pledge_reminder_days: float = Field(default=7, gt=0)
    # A station tree loaded into an empty database in the sandbox; none: the example
    # tree shipped with the bot (bot/example_stations.yaml).
    sandbox_stations: Path | None = None
    # Sentry (https://sentry.io or self-hosted): when set, `run` and `serve` report
    # unexpected errors there too; without it the SDK is not even imported.
    sentry_dsn: SecretStr | None = None
    # Files the bot keeps: the photos of activity records (under records/).
    data_dir: Path = Path("data")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("health_port", mode="before")
    @classmethod
    def _port_or_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value

    @field_validator("star_thresholds", "reminder_hours", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.replace(";", ",").split(",") if p.strip())
        return value

    @field_validator("star_thresholds")
    @classmethod
    def _increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("must be increasing hours, e.g. 100,300,600,1000,1500")
        if value[0] <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("reminder_hours")
    @classmethod
    def _positive_offsets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(v <= 0 for v in value):
            raise ValueError("must be positive hours, e.g. 24,2")
        return tuple(sorted(set(value), reverse=True))

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_window(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in ("", "off", "none"):
            return ""
        parse_quiet_hours(value)
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

    @field_validator("telegram_proxy")
    @classmethod
    def _proxy_address(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        text = value.get_secret_value().strip()
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:  # a port that is not a number
            raise ValueError("must look like socks5://host:1080 or http://host:3128") from exc
        if parts.scheme not in PROXY_SCHEMES:
            raise ValueError(
                f"must start with {', '.join(s + '://' for s in PROXY_SCHEMES)} "
                "(a proxy spoken to over TLS, https://, is not supported)"
            )
        if not parts.hostname or port is None:
            raise ValueError("must name the proxy's host and port, e.g. socks5://host:1080")
        return SecretStr(text)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value.strip()

    @field_validator("redis_url")
    @classmethod
    def _redis_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _dsn_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be the DSN Sentry gives, https://KEY@HOST/PROJECT")
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

    def proxy_shown(self) -> str | None:
        """TELEGRAM_PROXY without its password, for messages and logs."""
        if self.telegram_proxy is None:
            return None
        parts = urlsplit(self.telegram_proxy.get_secret_value())
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        user = f"{parts.username}:***@" if parts.password else ""
        user = user or (f"{parts.username}@" if parts.username else "")
        return f"{parts.scheme}://{user}{host}:{parts.port}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end) local times, or None when switched off."""
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None

    def configured_certificate_key(self) -> bytes | None:
        """CERTIFICATE_SECRET as a key, when set: it wins over the stored key."""
        if self.certificate_secret is None:
            return None
        return self.certificate_secret.get_secret_value().encode()

    def legacy_certificate_key(self) -> bytes:
        """The key the bot used before it stored one: CERTIFICATE_SECRET, else derived
        from the token. Only to keep codes issued under it verifying
        (services.certificate_key stores it on the first start after the upgrade)."""
        configured = self.configured_certificate_key()
        if configured is not None:
            return configured
        token = self.bot_token.get_secret_value() if self.bot_token else "sandbox"
        return hashlib.sha256(b"certificate:" + token.encode()).digest()


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """``22:00-07:00`` -> (22:00, 07:00); raises ValueError on anything else."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError("must look like 22:00-07:00, or off")
    try:
        first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as exc:
        raise ValueError("must look like 22:00-07:00, or off") from exc
    if first == last:
        raise ValueError("start and end must differ")
    return first, last


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
