"""Logging set-up: one line per event, and no secret in any of them."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

# Telegram bot tokens appear in Bot API URLs; Slack tokens start with xox?-.
_SECRETS = re.compile(r"(bot\d{5,}:[A-Za-z0-9_-]{20,}|xox[abprse]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class RedactSecrets(logging.Filter):
    """Replaces anything that looks like a platform token in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message; always keep the record."""
        message = record.getMessage()
        redacted = _SECRETS.sub("[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def setup_logging(env: Mapping[str, str]) -> None:
    """Log to stderr at ``HOC_LOG_LEVEL`` (INFO); httpx's request lines (with URLs) only at WARNING."""
    level = getattr(logging, env.get("HOC_LOG_LEVEL", "INFO").upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The Telegram library's HTTP client logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
