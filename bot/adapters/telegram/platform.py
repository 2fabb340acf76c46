"""Telegram's platform for ``hoc-bot run``: updates in by long polling or webhook through the inbox,
each answered in its chat (in its topic, replying in groups, editing the message whose button was pressed)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol

from aiohttp import web
from telegram import BotCommand, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.adapters.inbox import LEASE, SHUTDOWN_WITHIN, Inbox, Turn, lease_from_env
from bot.adapters.telegram.config import SECRET_HEADER, WEBHOOK_PATH, TelegramConfig, protect_logs
from bot.adapters.telegram.convert import callback_to_incoming, looks_like_update, order_key, to_incoming
from bot.adapters.telegram.outbox import Outbox
from bot.adapters.telegram.render import CallbackIds
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.toolkit.pacing import Backoff, RateLimiter
from bot.adapters.toolkit.parts import HandlerParts
from bot.adapters.toolkit.sending import api_error
from bot.core.errors import ConfigError
from bot.core.messages import Reply
from bot.core.ports import Sender, Translator
from bot.web import BODIES, AckFirst

_log = logging.getLogger(__name__)
_api_error = partial(api_error, "telegram")

#: The only updates the bot asks Telegram for.
ALLOWED_UPDATES = ("message", "callback_query")


class Catalogs(Protocol):
    """What the adapter needs of the interface catalogs (command menu descriptions)."""

    @property
    def available(self) -> Sequence[str]:
        """Languages with a catalog."""
        ...

    @property
    def default(self) -> str:
        """The default language."""
        ...

    def get(self, lang: str) -> Translator:
        """The translator of ``lang``."""
        ...


class BotParts(HandlerParts, Protocol):
    """The wired bot (bot.app.Bot) as the adapter sees it."""

    @property
    def catalogs(self) -> Catalogs:
        """Interface catalogs."""
        ...


def menu(t: Translator) -> list[BotCommand]:
    """The ``/`` command menu in ``t``'s language."""
    return [
        BotCommand("start", t.gettext("Welcome and your plan")),
        BotCommand("plan", t.gettext("Your checklist, event date and next step")),
        BotCommand("steps", t.gettext("The five steps of the plan")),
        BotCommand("remind", t.gettext("Set a reminder, for example: /remind tomorrow 9am step 2")),
        BotCommand("lang", t.gettext("Answer me in another language, for example: /lang en")),
        BotCommand("hoc", t.gettext("Any command, for example: /hoc date 7 december")),
        BotCommand("help", t.gettext("What I can do")),
    ]


class TelegramPlatform:
    """Telegram for ``hoc-bot run``: long polling by default, a webhook route when configured.

    Args:
        config: Token, mode and API URL.
        bot: The wired bot (handler and catalogs).
        limiter: Shared by conversation replies and reminders (~30 messages/s by default).
        sender_max_wait: Longest flood-control wait of a reminder before it is handed back.
        poll_timeout: Long-polling timeout of getUpdates, in seconds.
        max_concurrent_updates: Updates in hand at once (those of one chat wait their turn).
    """

    name = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        bot: BotParts,
        *,
        limiter: RateLimiter | None = None,
        sender_max_wait: float = 10.0,
        poll_timeout: float = 10.0,
        max_concurrent_updates: int = 256,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.config = config
        self.bot = bot
        self.poll_timeout = poll_timeout
        # Before the build: PTB logs its API URL, token included, when the bot is created.
        protect_logs(config.token)
        builder = ApplicationBuilder().token(config.token)
        if config.api_url:
            builder = builder.base_url(f"{config.api_url}/bot").base_file_url(f"{config.api_url}/file/bot")
        # Updates come through the inbox (webhook or this platform's own polling), not PTB's queue.
        builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.ids = CallbackIds()
        self.outbox = Outbox(self.application.bot, self.ids, limiter or RateLimiter())
        self.sender: Sender = TelegramSender(self.outbox, max_wait=sender_max_wait)
        self._started = False
        self._accepting = False
        self._poller: asyncio.Task[None] | None = None
        self._offset: int | None = None
        self.gate = AckFirst()
        self.inbox = Inbox.for_platform(
            self.name, bot.handler, self._process, lambda: self.gate, workers=max_concurrent_updates, lease=lease
        )
        self.shutdown_within = SHUTDOWN_WITHIN

    @classmethod
    def from_env(cls, env: Mapping[str, str], bot: BotParts) -> TelegramPlatform:
        """The platform configured by the TELEGRAM_* variables of ``env``."""
        return cls(TelegramConfig.from_env(env), bot, lease=lease_from_env(env))

    # ------------------------------------------------------------------ lifecycle
    def routes(self) -> Sequence[web.RouteDef]:
        """``POST /telegram/webhook`` in webhook mode; nothing when polling."""
        if not self.config.webhook:
            return []
        return [web.post(WEBHOOK_PATH, self.webhook)]

    async def start(self) -> None:
        """Connect: getMe, command menus, then polling or webhook registration."""
        protect_logs(self.config.token)
        app = self.application
        try:
            await app.initialize()
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN: Telegram rejected this token (revoked, or mistyped?)") from None
        self._started = True
        await self._set_menus()
        await self.inbox.start()
        self._accepting = True
        if self.config.webhook:
            await app.bot.set_webhook(
                self.config.webhook_url,
                secret_token=self.config.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            _log.info("Telegram: webhook registered")
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
            self._poller = asyncio.get_running_loop().create_task(self._poll())
            _log.info("Telegram: long polling started")

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand for ``shutdown_within`` seconds, close the HTTP client.

        Updates not handled by then stay in the inbox for the next start.
        """
        app = self.application
        self._accepting = False
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.wait({self._poller}, timeout=5.0)
            self._poller = None
            await self._confirm()
        await self.inbox.close(self.shutdown_within, _log, "Telegram", "updates")
        if self._started:
            await app.shutdown()
            self._started = False
        # A sender used without start() (``hoc-bot worker``) initialized the bot on its own.
        await app.bot.shutdown()

    async def _set_menus(self) -> None:
        catalogs = self.bot.catalogs
        menus: list[tuple[str | None, str]] = [(None, catalogs.default)]
        menus += [(lang, lang) for lang in catalogs.available if re.fullmatch(r"[a-z]{2}", lang)]
        for code, lang in menus:
            try:
                await self.outbox.call(
                    lambda c=code, lg=lang: self.application.bot.set_my_commands(  # type: ignore[misc]
                        menu(catalogs.get(lg)), language_code=c
                    ),
                    limited=False,
                )
            except TelegramError as exc:
                _log.warning("Telegram: setMyCommands(%s) failed: %s", code or "default", exc)

    # ------------------------------------------------------------------ webhook
    async def webhook(self, request: web.Request) -> web.Response:
        """Check the secret header in constant time and the update's shape, queue it and answer at once.

        The update is read in full and handled once the webhook requests in flight are answered
        (``gate``, see :class:`bot.web.AckFirst`), in the order they came.
        """
        expected = (self.config.webhook_secret or "").encode()
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401, text="missing secret token")
        # "replace": a header that is not valid text must not turn into a server error.
        if not expected or not hmac.compare_digest(given.encode("utf-8", "replace"), expected):
            return web.Response(status=403, text="wrong secret token")
        try:
            body = await BODIES.read(request)  # too slow: 408; too many large bodies at once: 503
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="body too large")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            return web.Response(status=400, text="malformed JSON")
        if not looks_like_update(data):
            return web.Response(status=400, text="not a Telegram update")
        if not self._accepting:
            # Telegram retries later; the update is not lost.
            return web.Response(status=503, text="starting")
        await self.inbox.put(str(data["update_id"]), order_key(data), data)
        return web.Response(status=200)

    # ------------------------------------------------------------------ long polling
    @property
    def polling(self) -> bool:
        """True while updates are fetched by long polling."""
        return self._poller is not None and not self._poller.done()

    async def _poll(self) -> None:
        """Fetch updates and keep them in the inbox; the next fetch's offset confirms them to Telegram
        only once they are kept."""
        bot = self.application.bot
        backoff = Backoff(1.0, 30.0, jitter=0.2)
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._offset, timeout=int(self.poll_timeout), allowed_updates=list(ALLOWED_UPDATES)
                )
                for update in updates:
                    data = update.to_dict()
                    await self.inbox.put(str(update.update_id), order_key(data), data)
                    self._offset = update.update_id + 1
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                _log.error("Telegram: the token was rejected; polling stopped")
                return
            except Exception as exc:
                _log.warning("Telegram: getUpdates failed (%s); again in %.0f s", type(exc).__name__, backoff.delay)
                await asyncio.sleep(backoff.next())

    async def _confirm(self) -> None:
        """Tell Telegram the updates kept so far were received (else the next start gets them again)."""
        if self._offset is None:
            return
        try:
            await self.application.bot.get_updates(offset=self._offset, timeout=0, limit=1)
        except TelegramError as exc:
            _log.info("Telegram: the last updates were not confirmed (%s); they are deduplicated", exc)

    # ------------------------------------------------------------------ updates
    async def _process(self, turn: Turn) -> None:
        """Handle an update kept in the inbox."""
        data = turn.payload
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:
            # PTB reads what it is given as an update and fails in many ways on anything else.
            _log.warning("Telegram: update %s could not be read: %s", data.get("update_id"), type(exc).__name__)
            return
        if update.message is not None and update.message.text is not None:
            await self._on_message(turn, update)
        elif update.callback_query is not None:
            await self._on_callback(turn, update)

    async def _on_message(self, turn: Turn, update: Update) -> None:
        me = self.application.bot
        msg = to_incoming(update, me.id, me.username)
        message = update.message
        if msg is None or message is None:
            return
        replies = await turn.replies(lambda: asyncio.to_thread(self.bot.handler.handle, msg))
        private = message.chat.type == ChatType.PRIVATE
        await self._deliver_all(
            turn,
            message.chat.id,
            replies,
            reply_to=None if private else message.message_id,
            thread=message.message_thread_id if message.is_topic_message else None,
        )

    async def _on_callback(self, turn: Turn, update: Update) -> None:
        query = update.callback_query
        if query is None:
            return
        if turn.row.replies is None:
            try:
                # Always answered, and first: the client shows a spinner until then.
                await query.answer()
            except TelegramError as exc:
                _log.warning("Telegram: answerCallbackQuery failed: %s", exc)
        msg = callback_to_incoming(update, self.ids.decode)
        if msg is None:
            return
        replies = await turn.replies(lambda: asyncio.to_thread(self.bot.handler.handle, msg))
        original = query.message if isinstance(query.message, Message) else None
        chat_id: int = query.message.chat.id if query.message is not None else query.from_user.id
        edit = original.message_id if original is not None and _owned_by(original, query.from_user.id) else None
        thread = original.message_thread_id if original is not None and original.is_topic_message else None
        await self._deliver_all(turn, chat_id, replies, edit=edit, thread=thread)

    async def _deliver_all(
        self,
        turn: Turn,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        reply_to: int | None = None,
        thread: int | None = None,
        edit: int | None = None,
    ) -> None:
        # Only the first replacing reply takes the message's place (kept replies resume after it).
        first_replacing = next((i for i, r in enumerate(replies) if r.replace), None)
        replaced = replies[first_replacing] if edit is not None and first_replacing is not None else None
        closed = False

        async def send(reply: Reply) -> None:
            nonlocal closed
            if closed:
                return
            target = edit if reply is replaced else None
            try:
                await self.outbox.deliver(chat_id, reply, reply_to=reply_to, thread=thread, edit=target)
            except BadRequest as exc:
                if target is not None and "not modified" in exc.message.lower():
                    return  # the same button pressed twice: the message already shows this
                if target is None:
                    _log.error("Telegram: sending a %s reply failed: %s", reply.kind, exc, extra=_api_error("400"))
                    return
                # The message can no longer be edited (too old, deleted): send the reply instead.
                await self._try_send(chat_id, reply, reply_to, thread)
            except Forbidden as exc:
                _log.info("Telegram: chat %s does not accept messages: %s", chat_id, exc)
                closed = True
            except TelegramError as exc:
                _log.error(
                    "Telegram: delivering a %s reply failed: %s", reply.kind, exc, extra=_api_error(type(exc).__name__)
                )

        await turn.deliver(replies, send)

    async def _try_send(self, chat_id: int, reply: Reply, reply_to: int | None, thread: int | None) -> None:
        try:
            await self.outbox.deliver(chat_id, reply, reply_to=reply_to, thread=thread)
        except TelegramError as exc:
            _log.error("Telegram: sending a %s reply failed: %s", reply.kind, exc, extra=_api_error(type(exc).__name__))


def _owned_by(message: Message, user_id: int) -> bool:
    """True unless the message answers someone else's message (a group checklist is its owner's)."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    original = message.reply_to_message
    if original is None or original.from_user is None:
        return True
    return original.from_user.id == user_id
