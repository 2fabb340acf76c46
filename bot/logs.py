"""Logging set-up: one line per event, and no secret in any of them."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from typing import TextIO

from bot.core.handler import REQUEST_ID

# Telegram bot tokens appear in Bot API URLs; Slack tokens start with xox?-.
_SECRETS = re.compile(r"(bot\d{5,}:[A-Za-z0-9_-]{20,}|xox[abprse]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")
#: Settings whose values are secrets, whatever they look like (a webhook secret, a signing secret).
_SECRET_NAMES = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSPHRASE|_KEY)$")
#: Secret values known to this process, replaced wherever they appear in a log line.
_KNOWN: set[str] = set()
# Shorter values would redact ordinary words.
_MIN_SECRET = 8


def register_secrets(env: Mapping[str, str]) -> None:
    """Remember the values of the secret settings of ``env`` (``*_TOKEN``, ``*_SECRET``,
    ``*_PASSWORD``…, and the password of ``DATABASE_URL``), so that no log line shows them."""
    values = [v for k, v in env.items() if _SECRET_NAMES.search(k)]
    url = env.get("DATABASE_URL", "")
    password = re.match(r"^[a-z0-9+]+://[^:/@]*:([^@]+)@", url)
    if password:
        values.append(password.group(1))
    for value in values:
        if len(value) >= _MIN_SECRET:
            # As written, and as a JSON log line escapes it (a quote or a backslash in it).
            _KNOWN.update({value, json.dumps(value, ensure_ascii=False)[1:-1]})


def redact(text: str) -> str:
    """``text`` without tokens or the registered secret values."""
    text = _SECRETS.sub("[redacted]", text)
    for value in _KNOWN:
        if value in text:
            text = text.replace(value, "[redacted]")
    return text


class RedactSecrets(logging.Filter):
    """Replaces anything that looks like a platform token, and the registered secret values, in a log
    record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message; always keep the record."""
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        data: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(env: Mapping[str, str], stream: TextIO | None = None) -> None:
    """JSON lines on stderr at ``HOC_LOG_LEVEL`` (INFO); httpx's request lines (with URLs) only at WARNING."""
    register_secrets(env)
    level = getattr(logging, env.get("HOC_LOG_LEVEL", "INFO").upper(), logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The Telegram library's HTTP client logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
