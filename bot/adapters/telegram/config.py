"""Telegram settings read from the environment, and the bot token kept out of the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.errors import ConfigError

#: Where Telegram posts updates in webhook mode.
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """Telegram settings read from the environment.

    Attributes:
        token: ``TELEGRAM_BOT_TOKEN`` from @BotFather (never logged).
        webhook_url: ``TELEGRAM_WEBHOOK_URL``: public HTTPS URL of ``/telegram/webhook``; long
            polling when unset.
        webhook_secret: ``TELEGRAM_WEBHOOK_SECRET``: required in webhook mode.
        api_url: ``TELEGRAM_API_URL``: a self-hosted Bot API server (or a test fake) instead of
            Telegram's.
    """

    token: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    api_url: str | None = None

    @property
    def webhook(self) -> bool:
        """True in webhook mode."""
        return self.webhook_url is not None

    def __repr__(self) -> str:
        return f"TelegramConfig(webhook_url={self.webhook_url!r}, api_url={self.api_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramConfig:
        """Read and check the TELEGRAM_* variables; ConfigError names the variable at fault."""
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set (create a bot with @BotFather to get one)")
        if not _TOKEN.match(token):
            # The value is a secret: never repeat it.
            raise ConfigError("TELEGRAM_BOT_TOKEN: not a bot token such as 123456789:AAH… (as @BotFather gives it)")
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if webhook_url is not None:
            parts = urlsplit(webhook_url)
            if parts.scheme != "https" or not parts.hostname:
                raise ConfigError(
                    f"TELEGRAM_WEBHOOK_URL: {webhook_url!r} is not an https:// URL "
                    f"(Telegram posts only to HTTPS), such as https://bot.example.org{WEBHOOK_PATH}"
                )
            if secret is None:
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set "
                    "(16 to 256 characters among A-Z, a-z, 0-9, _ and -)"
                )
            if not _SECRET.match(secret):
                raise ConfigError("TELEGRAM_WEBHOOK_SECRET: use 16 to 256 characters among A-Z, a-z, 0-9, _ and -")
        api_url = env.get("TELEGRAM_API_URL", "").strip().rstrip("/") or None
        if api_url is not None:
            parts = urlsplit(api_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ConfigError(f"TELEGRAM_API_URL: {api_url!r} is not a URL such as http://127.0.0.1:8081")
        return cls(token=token, webhook_url=webhook_url, webhook_secret=secret, api_url=api_url)


class RedactToken(logging.Filter):
    """Replaces the bot token in the records of the logger it is attached to."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message; always keep the record."""
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "[redacted]")
            record.args = None
        return True


#: Loggers whose records may carry a URL with the token: PTB's bot classes ("Set Bot API URL")
#: and httpx's request lines.
_URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")


def protect_logs(token: str | None = None) -> None:
    """Keep the bot token out of the logs.

    httpx logs every request URL, token included, at INFO: it is raised to WARNING. PTB logs the
    API URL at DEBUG: ``token`` is redacted from the records of the loggers that may carry it.
    """
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    if not token:
        return
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))
