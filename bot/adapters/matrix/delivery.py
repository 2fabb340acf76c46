"""Replies out: ``m.notice`` events through nio (encrypted where the room is), the buttons they offered, and
the reminder sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from nio import AsyncClient, MegolmEvent, RoomGetEventResponse, RoomSendResponse
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.adapters.matrix.render import buttons_of, render
from bot.adapters.toolkit.caches import FOREVER, TtlCache
from bot.adapters.toolkit.pacing import Backoff
from bot.adapters.toolkit.sending import PlatformSender
from bot.adapters.toolkit.sending import api_error as platform_api_error
from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Button, Reply
from bot.core.ports import Translator, UserKey

_log = logging.getLogger(__name__)

#: Bot messages whose buttons are remembered in memory (older ones are read back from the homeserver).
REMEMBERED = 10_000
#: Matrix error codes after which a room will not take the bot's messages again.
GONE = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN"})
#: Tries of one event before its failure is given up (rate limits, network trouble, server errors).
ATTEMPTS = 3
#: Longest wait asked by the homeserver that the bot waits out before trying again, in seconds.
MAX_RETRY_AFTER = 30.0


#: Log-record fields that count a homeserver error in the metrics (``api_error(code)``).
api_error = partial(platform_api_error, "matrix")


def hint(t: Translator) -> str:
    """The line under a reply's buttons, in ``t``'s language."""
    return t.gettext("Reply with a number, or react with its emoji.")


def undecryptable(t: Translator) -> str:
    """What a user is told when their message could not be decrypted."""
    return t.gettext("I could not read your last message: its encryption key has not reached me. Please send it again.")


class MatrixSendError(Exception):
    """The homeserver refused an event (``code``: its Matrix error code, ``retry_after``: seconds, if said)."""

    def __init__(self, message: str, code: str | None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class Outbox:
    """Sends replies to rooms and remembers which buttons each message offered, and to whom.

    Args:
        client: Returns the logged-in client.
        hint: The line under a reply's buttons in a language (see :func:`hint`).
        attempts: Tries of one event: a rate limit (waited out when the homeserver says for how long, up
            to :data:`MAX_RETRY_AFTER`), a network error or a server error are tried again; a room that
            refuses the bot (:data:`GONE`) is not.
        sleep: Waits between tries (tests pass one that does not wait).
    """

    def __init__(
        self,
        client: Callable[[], AsyncClient],
        hint: Callable[[str], str],
        *,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._hint = hint
        self._attempts = attempts
        self._sleep = sleep
        self._by_event: TtlCache[str, tuple[Button, ...]] = TtlCache(REMEMBERED, FOREVER)
        self._last: dict[tuple[str, str], tuple[Button, ...]] = {}
        self._last_event: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------------ buttons
    def last_buttons(self, room: str, user: str) -> tuple[Button, ...]:
        """The buttons of the last message with buttons sent to ``user`` in ``room`` (typed numbers press them)."""
        return self._last.get((room, user), ())

    def last_event(self, room: str, user: str) -> str | None:
        """The id of the last message with buttons sent to ``user`` in ``room`` by this process."""
        return self._last_event.get((room, user))

    def forget_user(self, user: str) -> None:
        """Drop what is remembered of ``user``."""
        for key in [k for k in self._last if k[1] == user]:
            del self._last[key]
            self._last_event.pop(key, None)

    def _remember(self, event_id: str, room: str, user: str | None, buttons: tuple[Button, ...]) -> None:
        self._by_event.put(event_id, buttons)
        if user is not None:
            self._last[(room, user)] = buttons
            self._last_event[(room, user)] = event_id

    async def buttons_of(self, room: str, event_id: str) -> tuple[Button, ...]:
        """The buttons offered by the bot's message ``event_id``: remembered, or read back from the homeserver
        (after a restart), decrypting it when needed. None when it is not the bot's or cannot be read."""
        remembered = self._by_event.get(event_id)
        if remembered is not None:
            return remembered
        client = self._client()
        response = await client.room_get_event(room, event_id)
        if not isinstance(response, RoomGetEventResponse):
            return ()
        event: Any = response.event
        if isinstance(event, MegolmEvent):
            try:
                event = client.decrypt_event(event)
            except EncryptionError:
                return ()
        if getattr(event, "sender", None) != client.user_id:
            return ()
        buttons = buttons_of(getattr(event, "source", {}).get("content"))
        self._remember(event_id, room, None, buttons)
        return buttons

    # ------------------------------------------------------------------ sending
    async def send(
        self,
        room: str,
        reply: Reply,
        *,
        user: str | None = None,
        thread: str | None = None,
        reply_to: str | None = None,
    ) -> list[str]:
        """Send ``reply`` to ``room`` (in ``thread``, answering ``reply_to``); the ids of the events sent.

        Raises:
            MatrixSendError: The homeserver refused an event.
            LocalProtocolError: The bot is not in the room.
        """
        client = self._client()
        ids = []
        for index, notice in enumerate(render(reply, self._hint(reply.lang) if reply.buttons else "")):
            content = notice.content()
            if thread is not None:
                content["m.relates_to"] = {
                    "rel_type": "m.thread",
                    "event_id": thread,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": reply_to or thread},
                }
            elif reply_to is not None and index == 0:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
            response = await self._send_event(client, room, content)
            ids.append(response.event_id)
            if notice.buttons:
                self._remember(response.event_id, room, user, notice.buttons)
        return ids

    async def _send_event(self, client: AsyncClient, room: str, content: dict[str, Any]) -> RoomSendResponse:
        """One event, tried up to ``attempts`` times; raises the last failure."""
        backoff = Backoff(1.0, 8.0, jitter=0.2)
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._attempts
            try:
                # Trust on first use: the bot sends to every device of the room, verified or not (README).
                response = await client.room_send(room, "m.room.message", content, ignore_unverified_devices=True)
            except (aiohttp.ClientError, TimeoutError):
                if last:
                    raise
                await self._sleep(backoff.next())
                continue
            if isinstance(response, RoomSendResponse):
                return response
            retry = getattr(response, "retry_after_ms", None)
            error = MatrixSendError(
                str(response.message), response.status_code, retry / 1000 if isinstance(retry, int) else None
            )
            waited_out = error.retry_after is None or error.retry_after <= MAX_RETRY_AFTER
            if last or error.code in GONE or not waited_out:
                raise error
            _log.info("Matrix: the homeserver refused an event (%s); trying again", error.code)
            await self._sleep(error.retry_after if error.retry_after is not None else backoff.next())


class MatrixSender(PlatformSender):
    """The Sender port on Matrix: delivers reminders in the user's room, classifying failures for the runner.

    Args:
        outbox: Sends replies.
        ready: Waits until the platform is connected (False after ``timeout``).
        joined: Whether the bot is in a room.
    """

    failures = (MatrixSendError, LocalProtocolError, aiohttp.ClientError, TimeoutError)

    def __init__(
        self,
        outbox: Outbox,
        ready: Callable[[float], Any],
        joined: Callable[[str], bool],
        *,
        timeout: float = 30.0,
    ) -> None:
        self.outbox = outbox
        self.ready = ready
        self.joined = joined
        self.timeout = timeout

    async def deliver(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Deliver ``reply`` to the user's room.

        Raises:
            PermanentSendError: No room is known, or the bot is no longer in it.
            TransientSendError: Not connected yet.
            MatrixSendError: The homeserver refused an event.
        """
        if not chat:
            raise PermanentSendError("Matrix: no room is known for this user")
        if not await self.ready(self.timeout):
            raise TransientSendError("Matrix: not connected to the homeserver (yet)")
        if not self.joined(chat):
            raise PermanentSendError("Matrix: the bot is no longer in the user's room")
        await self.outbox.send(chat, reply, user=key.user)

    def classify(self, exc: Exception) -> PermanentSendError | TransientSendError:
        """The room refuses the bot, or the bot left it: permanent; rate limits (with ``retry_after``),
        network trouble and other homeserver errors: transient."""
        if isinstance(exc, MatrixSendError):
            if exc.code in GONE:
                return PermanentSendError(f"Matrix: {exc.code}: {exc}")
            return TransientSendError(f"Matrix: {exc.code}: {exc}", exc.retry_after)
        if isinstance(exc, LocalProtocolError):
            return PermanentSendError(f"Matrix: {exc}")
        return TransientSendError(f"Matrix: {type(exc).__name__}")
