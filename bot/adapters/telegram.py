"""Telegram adapter: python-telegram-bot updates in, IncomingMessage to the handler, replies out."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import random
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
)
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.inbox import LEASE, SHUTDOWN_WITHIN, Inbox, Turn, lease_from_env
from bot.adapters.telegram_render import CallbackIds, Rendered, render
from bot.core.errors import ConfigError, PermanentSendError, TransientSendError
from bot.core.handler import Handler
from bot.core.messages import IncomingMessage, Reply
from bot.core.ports import Sender, Translator, UserKey
from bot.web import BODIES, AckFirst

_log = logging.getLogger(__name__)


#: Extra tries of a call after a network error or a 5xx (not after a time-out).
NETWORK_RETRIES = 2


def _api_error(code: str) -> dict[str, object]:
    """Log-record fields that count a Bot API error in the metrics."""
    return {"fields": {"event": "api_error", "platform": "telegram", "code": code}}


T = TypeVar("T")

#: Where Telegram posts updates in webhook mode.
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
#: The only updates the bot asks Telegram for.
ALLOWED_UPDATES = ("message", "callback_query")
#: Short commands of the menu and the handler text each one stands for.
SHORT_COMMANDS = {"help": "help", "plan": "plan", "steps": "steps", "remind": "remind", "lang": "lang"}

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
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


class BotParts(Protocol):
    """The wired bot (bot.app.Bot) as the adapter sees it."""

    @property
    def handler(self) -> Handler:
        """Answers messages."""
        ...

    @property
    def catalogs(self) -> Catalogs:
        """Interface catalogs."""
        ...


# --------------------------------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """Telegram settings read from the environment.

    Attributes:
        token: ``TELEGRAM_BOT_TOKEN`` from @BotFather (never logged).
        webhook_url: ``TELEGRAM_WEBHOOK_URL``: public HTTPS URL of ``/telegram/webhook``; long
            polling when unset.
        webhook_secret: ``TELEGRAM_WEBHOOK_SECRET``: required in webhook mode.
        api_url: ``TELEGRAM_API_URL``: a self-hosted Bot API server (or a test fake) instead of
            Telegram's.
    """

    token: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    api_url: str | None = None

    @property
    def webhook(self) -> bool:
        """True in webhook mode."""
        return self.webhook_url is not None

    def __repr__(self) -> str:
        return f"TelegramConfig(webhook_url={self.webhook_url!r}, api_url={self.api_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramConfig:
        """Read and check the TELEGRAM_* variables; ConfigError names the variable at fault."""
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set (create a bot with @BotFather to get one)")
        if not _TOKEN.match(token):
            # The value is a secret: never repeat it.
            raise ConfigError("TELEGRAM_BOT_TOKEN: not a bot token such as 123456789:AAH… (as @BotFather gives it)")
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if webhook_url is not None:
            parts = urlsplit(webhook_url)
            if parts.scheme != "https" or not parts.hostname:
                raise ConfigError(
                    f"TELEGRAM_WEBHOOK_URL: {webhook_url!r} is not an https:// URL "
                    f"(Telegram posts only to HTTPS), such as https://bot.example.org{WEBHOOK_PATH}"
                )
            if secret is None:
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set "
                    "(16 to 256 characters among A-Z, a-z, 0-9, _ and -)"
                )
            if not _SECRET.match(secret):
                raise ConfigError("TELEGRAM_WEBHOOK_SECRET: use 16 to 256 characters among A-Z, a-z, 0-9, _ and -")
        api_url = env.get("TELEGRAM_API_URL", "").strip().rstrip("/") or None
        if api_url is not None:
            parts = urlsplit(api_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ConfigError(f"TELEGRAM_API_URL: {api_url!r} is not a URL such as http://127.0.0.1:8081")
        return cls(token=token, webhook_url=webhook_url, webhook_secret=secret, api_url=api_url)


class RedactToken(logging.Filter):
    """Replaces the bot token in the records of the logger it is attached to."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message; always keep the record."""
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "[redacted]")
            record.args = None
        return True


#: Loggers whose records may carry a URL with the token: PTB's bot classes ("Set Bot API URL")
#: and httpx's request lines.
_URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")


def protect_logs(token: str | None = None) -> None:
    """Keep the bot token out of the logs.

    httpx logs every request URL, token included, at INFO: it is raised to WARNING. PTB logs the
    API URL at DEBUG: ``token`` is redacted from the records of the loggers that may carry it.
    """
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    if not token:
        return
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))


# --------------------------------------------------------------------------------------- updates in
# Largest id or Unix time Telegram sends fits in 64 bits; beyond, dates and ids overflow downstream.
_MAX_INT = 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_INT


def _is_user(value: object) -> bool:
    return (
        isinstance(value, dict)
        and _is_int(value.get("id"))
        and all(isinstance(value.get(field, ""), str) for field in ("language_code", "username", "first_name"))
    )


def _is_message(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    chat, sender = value.get("chat"), value.get("from")
    return (
        _is_int(value.get("message_id"))
        and _is_int(value.get("date"))
        and 0 <= value["date"] < 2**32
        and _is_user(chat)
        and isinstance(chat.get("type"), str)  # type: ignore[union-attr]  # _is_user: a dict
        and (sender is None or _is_user(sender))
        and isinstance(value.get("text", ""), str)
        and isinstance(value.get("entities", []), list)
    )


def looks_like_update(data: object) -> bool:
    """Whether ``data`` (parsed JSON) has the shape of a Telegram update, as far as this bot reads it.

    A quick look, done before the webhook answers; the update is read in full (PTB's
    ``Update.de_json``) after, and dropped with a warning if that fails.
    """
    if not isinstance(data, dict) or not _is_int(data.get("update_id")):
        return False
    for field, value in data.items():
        if field in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if not _is_message(value):
                return False
        elif field == "callback_query":
            if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not _is_user(value.get("from")):
                return False
            if not isinstance(value.get("data", ""), str):
                return False
            if "message" in value and not _is_message(value["message"]):
                return False
        elif field != "update_id" and not isinstance(value, dict):
            return False
    return True


def to_incoming(update: Update, bot_id: int, bot_username: str) -> IncomingMessage | None:
    """The message of a text update, or None when the bot should stay silent.

    Silent on edits, on other bots, on non-text messages, on commands addressed to another bot
    and, in groups, on anything that is neither a command, a mention of the bot nor a reply to it
    (the privacy mode rule).

    Args:
        update: The update as PTB parsed it.
        bot_id: This bot's user id.
        bot_username: This bot's username, without ``@``.
    """
    message = update.message
    if message is None or message.text is None:
        return None
    sender = message.from_user
    if sender is None or sender.is_bot or message.via_bot is not None:
        return None
    private = message.chat.type == ChatType.PRIVATE
    if not private and message.chat.type not in {ChatType.GROUP, ChatType.SUPERGROUP}:
        return None
    text = _command_text(message, bot_username, private)
    if text is None:
        if private:
            text = message.text
        elif _mentions(message, bot_id, bot_username) or _replies_to(message, bot_id):
            text = re.sub(rf"(?i)@{re.escape(bot_username)}\b", " ", message.text).strip()
        else:
            return None
    return IncomingMessage(
        platform="telegram",
        workspace="",
        user=str(sender.id),
        chat=str(message.chat.id),
        text=text,
        locale_hint=sender.language_code,
    )


def _command_text(message: Message, bot_username: str, private: bool) -> str | None:
    """The handler text of a leading ``/command``; None when there is none or it is not for us."""
    text = message.text or ""
    entity = next(
        (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0),
        None,
    )
    if entity is None:
        return None
    # Commands are ASCII, so UTF-16 offsets and Python indices agree on them.
    name, _, target = text[1 : entity.length].partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    name = name.lower()
    rest = text[entity.length :].strip()
    if name == "start":
        # Deep links (t.me/<bot>?start=step_2) carry [A-Za-z0-9_-]: underscores stand for spaces.
        # A bare /start shows the plan; on first contact the handler puts its welcome first.
        return rest[:64].replace("_", " ").strip() or "plan"
    if name == "hoc":
        return f"/hoc {rest}".strip()
    if name in SHORT_COMMANDS:
        return f"{SHORT_COMMANDS[name]} {rest}".strip()
    if private or target:
        # Other commands (/date, /tz, /done …) go to the handler, which knows them.
        return f"/{name} {rest}".strip()
    return None


def _mentions(message: Message, bot_id: int, bot_username: str) -> bool:
    wanted = f"@{bot_username}".lower()
    for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and text.lower() == wanted:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    return False


def _replies_to(message: Message, bot_id: int) -> bool:
    original = message.reply_to_message
    return original is not None and original.from_user is not None and original.from_user.id == bot_id


def callback_to_incoming(update: Update, decode: Callable[[str], str] = lambda data: data) -> IncomingMessage | None:
    """The button press of a callback query, or None when it carries no data.

    Args:
        update: The update as PTB parsed it.
        decode: Turns ``callback_data`` back into the button id (see CallbackIds.decode).
    """
    query = update.callback_query
    if query is None or not query.data:
        return None
    chat = query.message.chat.id if query.message is not None else query.from_user.id
    return IncomingMessage(
        platform="telegram",
        workspace="",
        user=str(query.from_user.id),
        chat=str(chat),
        text=decode(query.data),
        locale_hint=query.from_user.language_code,
        action=True,
    )


# --------------------------------------------------------------------------------------- replies out
class RateLimiter:
    """Spaces calls to at most ``rate`` per second, allowing bursts of ``burst`` (a GCRA bucket)."""

    def __init__(
        self,
        rate: float = 30.0,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.interval = 1.0 / rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0  # when the bucket is empty again ("theoretical arrival time")

    async def acquire(self) -> None:
        """Wait for a slot; slots are taken in call order."""
        now = self._clock()
        tat = max(self._tat, now)
        wait = tat - now - (self.burst - 1) * self.interval
        # The slot is reserved before sleeping, so concurrent callers queue up fairly.
        self._tat = tat + self.interval
        if wait > 0:
            await self._sleep(wait)


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


class TelegramSender:
    """The Sender port on Telegram: delivers reminders, classifying failures for the runner.

    Args:
        outbox: Sends under the platform's rate limiter.
        max_wait: Flood-control waits up to this long are waited out; longer ones become
            TransientSendError(retry_after) so that the runner retries later.
    """

    def __init__(self, outbox: Outbox, *, max_wait: float = 10.0) -> None:
        self.outbox = outbox
        self.max_wait = max_wait

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Deliver ``reply`` to ``chat`` (the user's private chat when empty).

        Raises:
            PermanentSendError: The user blocked the bot, or the chat is gone.
            TransientSendError: Flood control (with ``retry_after``), network trouble, Telegram errors.
        """
        target = _chat_id(chat or key.user)
        try:
            await self.outbox.ready()
            await self.outbox.deliver(target, reply, max_wait=self.max_wait)
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            raise TransientSendError(f"Telegram flood control: retry after {seconds:.0f} s", seconds) from exc
        except Forbidden as exc:
            raise PermanentSendError(f"Telegram: {exc.message}") from exc
        except BadRequest as exc:
            if any(marker in exc.message.lower() for marker in _GONE):
                raise PermanentSendError(f"Telegram: {exc.message}") from exc
            raise TransientSendError(f"Telegram refused the message: {exc.message}") from exc
        except InvalidToken as exc:
            raise TransientSendError("Telegram rejected TELEGRAM_BOT_TOKEN") from exc
        except TelegramError as exc:
            # NetworkError, TimedOut and Telegram's 5xx: worth another try.
            raise TransientSendError(f"Telegram: {type(exc).__name__}: {exc.message}") from exc


def _chat_id(chat: str) -> int | str:
    return int(chat) if re.fullmatch(r"-?\d+", chat) else chat


# --------------------------------------------------------------------------------------- platform
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
        store = bot.handler.store
        self.inbox = Inbox(
            self.name,
            store,
            self._process,
            clock=bot.handler.clock,
            gate=lambda: self.gate,
            workers=max_concurrent_updates,
            reset_leases=store.inbox_exclusive,
            lease=lease,
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
        left = await self.inbox.stop(self.shutdown_within)
        if left:
            _log.warning("Telegram: %d updates left in the inbox for the next start", left)
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
        await self.inbox.put(str(data["update_id"]), _order_key(data), data)
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
        delay = 1.0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._offset, timeout=int(self.poll_timeout), allowed_updates=list(ALLOWED_UPDATES)
                )
                for update in updates:
                    data = update.to_dict()
                    await self.inbox.put(str(update.update_id), _order_key(data), data)
                    self._offset = update.update_id + 1
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                _log.error("Telegram: the token was rejected; polling stopped")
                return
            except Exception as exc:
                _log.warning("Telegram: getUpdates failed (%s); again in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 30.0)

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


def _order_key(data: Mapping[str, Any]) -> str:
    """The inbox order key of an update: its chat (a chat's updates are handled one at a time, in order)."""
    query = data.get("callback_query")
    message = (
        data.get("message") or data.get("edited_message") or (query.get("message") if isinstance(query, dict) else None)
    )
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return f"chat:{message['chat'].get('id')}"
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        return f"chat:{query['from'].get('id')}"
    return f"update:{data.get('update_id')}"


def _owned_by(message: Message, user_id: int) -> bool:
    """True unless the message answers someone else's message (a group checklist is its owner's)."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    original = message.reply_to_message
    if original is None or original.from_user is None:
        return True
    return original.from_user.id == user_id
