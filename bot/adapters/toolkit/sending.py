"""The reminder sender's base, and the log fields that count a platform API error in the metrics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Reply
from bot.core.ports import UserKey


def api_error(platform: str, code: str) -> dict[str, object]:
    """Log-record fields (``extra``) that count a failed API call of ``platform`` in the metrics."""
    return {"fields": {"event": "api_error", "platform": platform, "code": code}}


class PlatformSender(ABC):
    """The Sender port on a platform: :meth:`deliver` sends, :meth:`classify` tells the runner what a
    failure means (permanent: stop; transient: retry later, after ``retry_after`` if the platform said).

    Failures of the kinds in :attr:`failures` are classified; the errors of the Sender port raised by
    :meth:`deliver` itself pass through; anything else is a bug and propagates as it is.
    """

    #: The platform's exceptions that :meth:`classify` understands.
    failures: ClassVar[tuple[type[Exception], ...]] = ()
    #: Chain the platform's exception to the Sender error (False when it may carry a secret, a token).
    keep_cause: ClassVar[bool] = True

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Deliver ``reply`` to ``chat`` of the user ``key``.

        Raises:
            PermanentSendError: Sending to this user again is pointless (blocked, gone, uninstalled).
            TransientSendError: Worth another try later (rate limited, network, server errors).
        """
        try:
            await self.deliver(key, chat, reply)
        except self.failures as exc:
            raise self.classify(exc) from (exc if self.keep_cause else None)

    @abstractmethod
    async def deliver(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Send ``reply``; raise one of :attr:`failures`, or a Sender error directly."""

    @abstractmethod
    def classify(self, exc: Exception) -> PermanentSendError | TransientSendError:
        """The runner's view of a failure of :meth:`deliver`."""
