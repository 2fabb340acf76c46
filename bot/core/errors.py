"""Errors of the bot.

::

    BotError
    ├── ConfigError            a setting is missing or wrong (names the variable)
    ├── KnowledgeError         the knowledge base cannot be loaded or is invalid
    ├── StoreUnavailable       the database cannot be reached
    └── SendError              delivering a message failed
        ├── TransientSendError rate limit, 5xx, timeout: retry later (retry_after seconds if known)
        └── PermanentSendError user blocked the bot, channel gone: do not retry

User-facing failures become a localized apology Reply in the handler; no SDK exception crosses
into the core.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of the bot's own errors."""


class ConfigError(BotError):
    """A setting is missing or has a bad value."""


class KnowledgeError(BotError):
    """The knowledge base cannot be loaded or failed validation."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class StoreUnavailable(BotError):
    """The database cannot be reached."""


class SendError(BotError):
    """Delivering a message failed."""


class TransientSendError(SendError):
    """Worth retrying, after ``retry_after`` seconds when the platform said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Not worth retrying: the user blocked the bot or the chat is gone."""
