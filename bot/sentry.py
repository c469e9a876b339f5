"""Sentry, when SENTRY_DSN is set: ``run`` and ``serve`` call ``start`` before the bot
starts, and the error handler (``handlers.errors``) hands it unexpected errors. Without
the setting the SDK is never imported (it would cost memory in every worker)."""

from __future__ import annotations

import logging
from importlib import metadata

from bot.database import UsageError
from ui.settings import Settings

log = logging.getLogger(__name__)
DISTRIBUTION = "volunteer-station-bot"


def release() -> str | None:
    """The bot's version, as Sentry's release."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def start(settings: Settings) -> bool:
    """Set up Sentry when SENTRY_DSN is set; True when it was. A DSN Sentry cannot
    read stops the command with one line (UsageError)."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk  # only now: without a DSN it stays unloaded

    try:
        sentry_sdk.utils.Dsn(settings.sentry_dsn.get_secret_value())
    except sentry_sdk.utils.BadDsn as exc:
        raise UsageError(f"SENTRY_DSN is not a Sentry DSN: {exc}") from exc
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=release(),
        # No personal data: no user ids or addresses from requests, no request bodies
        # (a webhook's body is the update, with the person's words), no frame locals
        # (they hold message texts and names).
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
    )
    log.info("errors are reported to Sentry (release %s)", release())
    return True
