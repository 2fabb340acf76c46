"""What every platform needs of the wired bot (:class:`bot.app.Bot`); each platform's own ``BotParts``
adds what it needs beside (catalogs, metrics, the plan's settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.core.handler import Handler


class HandlerParts(Protocol):
    """The bot as every platform sees it: the shared handler (its store, clock and settings)."""

    @property
    def handler(self) -> Handler:
        """Answers messages."""
        ...
