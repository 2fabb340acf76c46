"""Web API clients: 429s waited out up to a cap, connection and server errors retried, a logger that
never logs at DEBUG, and failures turned into the reminder runner's two kinds."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.config import SlackConfig
from bot.core.errors import PermanentSendError, TransientSendError

#: Slack errors after which sending to that user again is pointless.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "account_inactive",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "team_not_found",
    }
)


class BoundedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after its Retry-After, unless the wait is longer than ``max_wait`` seconds.

    A longer wait is left to the caller (the reminder runner reschedules instead of blocking).
    """

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= self.max_wait


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds of a Retry-After header (single value or list of values), if present and numeric."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def make_client(
    config: SlackConfig,
    *,
    token: str | None = None,
    max_wait: float = 30.0,
    retry_server_errors: bool = True,
    timeout: int = 30,
    logger: logging.Logger | None = None,
) -> AsyncWebClient:
    """A Web API client on ``SLACK_API_URL`` that waits out 429s (up to ``max_wait`` s) and retries."""
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(),
        BoundedRateLimitRetry(max_retry_count=3, max_wait=max_wait),
    ]
    if retry_server_errors:
        handlers.append(AsyncServerErrorRetryHandler(max_retry_count=1))
    return AsyncWebClient(
        token=token,
        base_url=config.api_url,
        timeout=timeout,
        logger=logger or sdk_logger(),
        retry_handlers=handlers,
    )


class _NoDebug(logging.Filter):
    """Drops DEBUG records: at DEBUG the SDK logs request bodies (``oauth.v2.access`` carries the client secret)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Bolt reads SLACK_BOT_TOKEN from os.environ by itself and then warns that our client
        # (which carries that very token) wins: noise for operators.
        return record.levelno >= logging.INFO and not record.getMessage().startswith("As you gave `client`")


def sdk_logger() -> logging.Logger:
    """The logger given to slack_sdk and bolt (bolt copies its filter); never DEBUG, whatever the root level."""
    logger = logging.getLogger("bot.adapters.slack.sdk")
    if not any(isinstance(f, _NoDebug) for f in logger.filters):
        logger.addFilter(_NoDebug())
    return logger


def error_code(exc: SlackApiError) -> str:
    """The ``error`` of a failed Web API call (never the token)."""
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(response, 'status_code', 'error')}"


def send_error(exc: Exception) -> PermanentSendError | TransientSendError:
    """The runner's view of a failed send: permanent (stop) or transient (retry later)."""
    if isinstance(exc, SlackApiError):
        code = error_code(exc)
        status = int(getattr(exc.response, "status_code", 0) or 0)
        if status == 429 or code == "ratelimited":
            return TransientSendError(f"slack: {code}", retry_after=retry_after(getattr(exc.response, "headers", None)))
        if code in PERMANENT_ERRORS:
            return PermanentSendError(f"slack: {code}")
        return TransientSendError(f"slack: {code}")
    return TransientSendError(f"slack: {type(exc).__name__}")
