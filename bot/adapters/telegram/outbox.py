"""Replies out: messages sent and edited through PTB's bot under one rate limiter, flood control waited
out up to a cap, network errors retried."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.telegram.config import protect_logs
from bot.adapters.telegram.render import CallbackIds, Rendered, render
from bot.adapters.toolkit.pacing import RateLimiter
from bot.adapters.toolkit.sending import api_error
from bot.core.messages import Reply

_log = logging.getLogger(__name__)
_api_error = partial(api_error, "telegram")

#: Extra tries of a call after a network error or a 5xx (not after a time-out).
NETWORK_RETRIES = 2

T = TypeVar("T")

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value) if isinstance(value, int | float) else 1.0


def _is_parse_error(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


class Outbox:
    """Sends and edits messages through PTB's bot under one rate limiter, waiting out flood control.

    Args:
        bot: PTB's bot (the Application's).
        ids: Short ids for long button ids.
        limiter: Shared by every send and edit of this bot.
        max_wait: Longest ``retry_after`` waited for; a longer one raises RetryAfter.
        max_retries: Flood-control retries per call.
    """

    def __init__(
        self,
        bot: Any,
        ids: CallbackIds,
        limiter: RateLimiter,
        *,
        max_wait: float = 60.0,
        max_retries: int = 3,
    ) -> None:
        self.bot = bot
        self.ids = ids
        self.limiter = limiter
        self.max_wait = max_wait
        self.max_retries = max_retries

    async def ready(self) -> None:
        """Initialize the bot (getMe) if nothing did yet; a worker sends without starting the platform."""
        protect_logs(self.bot.token)
        await self.bot.initialize()

    async def call(self, fn: Callable[[], Awaitable[T]], max_wait: float | None = None, *, limited: bool = True) -> T:
        """Run one API call, retrying after Telegram's ``retry_after``.

        Args:
            fn: Makes the call.
            max_wait: Longest ``retry_after`` waited for (the outbox's default when None).
            limited: Take a rate-limiter slot first (messages); False for calls that send none.
        """
        limit = self.max_wait if max_wait is None else max_wait
        retries = 0
        failures = 0
        while True:
            if limited:
                await self.limiter.acquire()
            try:
                return await fn()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                retries += 1
                if wait > limit or retries > self.max_retries:
                    raise
                _log.warning("Telegram flood control: retrying in %.1f s", wait, extra=_api_error("429"))
                await asyncio.sleep(wait)
            except NetworkError as exc:
                # A refused or reset connection, or a 5xx: the message was not taken, so try again. A
                # time-out is not retried here (Telegram may have delivered the message already), nor a
                # 400 (BadRequest is a NetworkError in PTB): sending it again would fail again.
                failures += 1
                if isinstance(exc, TimedOut | BadRequest) or failures > NETWORK_RETRIES:
                    raise
                _log.warning("Telegram: %s; retrying", exc, extra=_api_error(type(exc).__name__))
                await asyncio.sleep(0.5 * 2 ** (failures - 1) * (1 + random.random() / 2))

    async def deliver(
        self,
        chat_id: int | str,
        reply: Reply,
        *,
        reply_to: int | None = None,
        thread: int | None = None,
        edit: int | None = None,
        max_wait: float | None = None,
    ) -> None:
        """Send ``reply`` to ``chat_id``, or put it in place of message ``edit`` (its first part).

        Raises:
            TelegramError: What Telegram answered, once flood control was waited out.
        """
        rendered = render(reply, self.ids.encode)
        try:
            await self._send(chat_id, rendered, ParseMode.HTML, reply_to, thread, edit, max_wait)
        except BadRequest as exc:
            if not (_is_parse_error(exc) and len(rendered.chunks) == 1):
                raise
            # Never expected (the text is escaped), but a plain message beats no message.
            _log.error("Telegram refused the HTML of a %s reply (%s); sending it as plain text", reply.kind, exc)
            plain = render(reply, self.ids.encode, markup=False)
            await self._send(chat_id, plain, None, reply_to, thread, edit, max_wait)

    async def _send(
        self,
        chat_id: int | str,
        rendered: Rendered,
        parse_mode: str | None,
        reply_to: int | None,
        thread: int | None,
        edit: int | None,
        max_wait: float | None,
    ) -> None:
        last = len(rendered.chunks) - 1
        for index, chunk in enumerate(rendered.chunks):
            markup = None
            if index == last and rendered.keyboard:
                markup = InlineKeyboardMarkup(
                    [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rendered.keyboard]
                )
            if index == 0 and edit is not None:
                await self._edit_one(chat_id, edit, chunk, parse_mode, markup, max_wait)
                continue
            replying = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and index == 0 else None
            try:
                await self._send_one(chat_id, chunk, parse_mode, markup, replying, thread, max_wait)
            except ChatMigrated as exc:
                # The group became a supergroup: its new id takes the rest of the reply.
                chat_id = exc.new_chat_id
                await self._send_one(chat_id, chunk, parse_mode, markup, replying, thread, max_wait)

    async def _edit_one(
        self,
        chat_id: int | str,
        message_id: int,
        text: str,
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None,
        max_wait: float | None,
    ) -> None:
        await self.call(
            lambda: self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=_NO_PREVIEW,
            ),
            max_wait,
        )

    async def _send_one(
        self,
        chat_id: int | str,
        text: str,
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None,
        replying: ReplyParameters | None,
        thread: int | None,
        max_wait: float | None,
    ) -> None:
        await self.call(
            lambda: self.bot.send_message(
                chat_id,
                text,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=_NO_PREVIEW,
                reply_parameters=replying,
                message_thread_id=thread,
            ),
            max_wait,
        )
