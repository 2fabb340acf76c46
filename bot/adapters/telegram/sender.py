"""Reminders: the Sender port on Telegram, its failures classified for the runner."""

from __future__ import annotations

import re

from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.adapters.telegram.outbox import Outbox, retry_after_seconds
from bot.adapters.toolkit.sending import PlatformSender
from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Reply
from bot.core.ports import UserKey

# Telegram's descriptions of a chat the bot can no longer write to (lower case).
_GONE = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "user is deactivated",
    "bot was kicked",
    "bot is not a member",
    "chat_write_forbidden",
    "have no rights to send",
    "group chat was deactivated",
)


class TelegramSender(PlatformSender):
    """The Sender port on Telegram: delivers reminders, classifying failures for the runner.

    Args:
        outbox: Sends under the platform's rate limiter.
        max_wait: Flood-control waits up to this long are waited out; longer ones become
            TransientSendError(retry_after) so that the runner retries later.
    """

    failures = (TelegramError,)

    def __init__(self, outbox: Outbox, *, max_wait: float = 10.0) -> None:
        self.outbox = outbox
        self.max_wait = max_wait

    async def deliver(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Deliver ``reply`` to ``chat`` (the user's private chat when empty).

        Raises:
            TelegramError: What Telegram answered, once short flood-control waits were waited out.
        """
        await self.outbox.ready()
        await self.outbox.deliver(_chat_id(chat or key.user), reply, max_wait=self.max_wait)

    def classify(self, exc: Exception) -> PermanentSendError | TransientSendError:
        """Blocked, or the chat is gone: permanent; flood control (with ``retry_after``), network trouble and
        Telegram's other errors: transient."""
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return TransientSendError(f"Telegram flood control: retry after {seconds:.0f} s", seconds)
        if isinstance(exc, Forbidden):
            return PermanentSendError(f"Telegram: {exc.message}")
        if isinstance(exc, BadRequest):
            if any(marker in exc.message.lower() for marker in _GONE):
                return PermanentSendError(f"Telegram: {exc.message}")
            return TransientSendError(f"Telegram refused the message: {exc.message}")
        if isinstance(exc, InvalidToken):
            return TransientSendError("Telegram rejected TELEGRAM_BOT_TOKEN")
        # NetworkError, TimedOut and Telegram's 5xx: worth another try.
        message = exc.message if isinstance(exc, TelegramError) else str(exc)
        return TransientSendError(f"Telegram: {type(exc).__name__}: {message}")


def _chat_id(chat: str) -> int | str:
    return int(chat) if re.fullmatch(r"-?\d+", chat) else chat
