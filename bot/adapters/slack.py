"""Slack adapter: Slack events to IncomingMessage, replies to Block Kit, reminders to DMs."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
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
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot as SlackBot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.inbox import LEASE, SHUTDOWN_WITHIN, Inbox, Turn, lease_from_env
from bot.adapters.slack_input import Malformed, checked_body, header_problem
from bot.adapters.slack_render import (
    ACTION_PREFIX,
    SlackMessage,
    block_owner,
    plain,
    render_home,
    render_messages,
)
from bot.core.errors import ConfigError, PermanentSendError, TransientSendError
from bot.core.messages import IncomingMessage, Reply
from bot.core.ports import Sender, Translations, UserKey
from bot.web import BODIES, AckFirst

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.core.handler import Handler
    from bot.core.onboarding import Onboarding

_log = logging.getLogger(__name__)


def _api_error(code: str) -> dict[str, object]:
    """Log-record fields that count a Web API error in the metrics."""
    return {"fields": {"event": "api_error", "platform": "slack", "code": code}}


#: Web API base URL used unless ``SLACK_API_URL`` says otherwise.
DEFAULT_API_URL = "https://slack.com/api/"
#: Bot scopes the code uses (keep slack/manifest.yml in step).
BOT_SCOPES = ("app_mentions:read", "chat:write", "commands", "im:history", "im:write", "users:read")
#: The slash command.
COMMAND = "/hoc"
#: Events, commands and button presses worked on at once (the others wait, in arrival order).
MAX_CONCURRENT_TURNS = 64
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
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_HANDLED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SlackBotParts(Protocol):
    """What the adapter needs of :class:`bot.app.Bot`."""

    @property
    def handler(self) -> Handler:
        """The shared handler."""
        ...

    @property
    def onboarding(self) -> Onboarding:
        """The plan extension (default zone)."""
        ...

    @property
    def catalogs(self) -> Translations:
        """Interface catalogs."""
        ...


# ------------------------------------------------------------------------------ configuration
@dataclass(frozen=True, slots=True)
class SlackConfig:
    """Slack settings; secrets stay out of ``repr`` (and so out of logs and tracebacks).

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN``: one workspace.
        signing_secret: ``SLACK_SIGNING_SECRET``: verifies requests in HTTP mode.
        app_token: ``SLACK_APP_TOKEN``: Socket Mode instead of HTTP.
        client_id: ``SLACK_CLIENT_ID``: OAuth, many workspaces.
        client_secret: ``SLACK_CLIENT_SECRET``.
        state_secret: ``SLACK_STATE_SECRET``: signs the OAuth ``state``.
        api_url: ``SLACK_API_URL``: Web API base URL of every client the adapter creates.
        redirect_uri: ``SLACK_REDIRECT_URI``: OAuth redirect URL, when not the app's default one.
    """

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    state_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    redirect_uri: str | None = None

    @property
    def socket_mode(self) -> bool:
        """True when events come through Socket Mode rather than HTTP."""
        return bool(self.app_token)

    @property
    def oauth(self) -> bool:
        """True when workspaces install the app through OAuth."""
        return bool(self.client_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackConfig:
        """Read and check the ``SLACK_*`` variables.

        Raises:
            ConfigError: A variable is missing, malformed or contradicts another; the message
                names the variable and never shows a secret.
        """

        def get(name: str) -> str | None:
            return env.get(name, "").strip() or None

        bot_token = get("SLACK_BOT_TOKEN")
        app_token = get("SLACK_APP_TOKEN")
        oauth_names = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")
        oauth = {name: get(name) for name in oauth_names}
        if any(oauth.values()):
            if bot_token:
                raise ConfigError(
                    "SLACK_BOT_TOKEN: set it for one workspace, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
                    "SLACK_STATE_SECRET for OAuth installs in many workspaces, not both"
                )
            for name in oauth_names:
                if not oauth[name]:
                    raise ConfigError(f"{name}: missing (OAuth needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and {name})")
            if len(oauth["SLACK_STATE_SECRET"] or "") < 32:
                raise ConfigError("SLACK_STATE_SECRET: too short; use at least 32 random characters")
        elif not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN: missing (or set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET "
                "for OAuth installs)"
            )
        elif not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN: not a bot token (bot tokens start with xoxb-)")
        if app_token and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN: not an app-level token (they start with xapp-)")
        signing_secret = get("SLACK_SIGNING_SECRET") or ""
        if not app_token and not signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET: missing (it verifies requests to /slack/events; "
                "or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            client_id=oauth["SLACK_CLIENT_ID"],
            client_secret=oauth["SLACK_CLIENT_SECRET"],
            state_secret=oauth["SLACK_STATE_SECRET"],
            api_url=_http_url(env, "SLACK_API_URL", DEFAULT_API_URL, trailing_slash=True) or DEFAULT_API_URL,
            redirect_uri=_http_url(env, "SLACK_REDIRECT_URI", None),
        )


def _http_url(env: Mapping[str, str], name: str, default: str | None, *, trailing_slash: bool = False) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parts = urlsplit(raw)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: {raw[:200]!r} is not an http(s) URL such as https://slack.com/api/")
    return raw if not trailing_slash or raw.endswith("/") else raw + "/"


# ------------------------------------------------------------------------------ small helpers
class TtlCache(Generic[K, V]):
    """A bounded least-recently-used map whose entries expire (monotonic time)."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value, or None when absent or expired."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Store ``value``; the least recently used entry goes when the map is full."""
        self._items[key] = (self.clock() + (self.ttl if ttl is None else ttl), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget the entries whose key matches."""
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)


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


# ------------------------------------------------------------------------------ OAuth stores
class SignedStateStore(AsyncOAuthStateStore):
    """OAuth ``state`` values signed with ``SLACK_STATE_SECRET``: any replica can check them.

    A state is ``nonce.expiry.signature``; it is accepted once per process and until it expires.
    Bolt also checks that the browser finishing the install holds the state cookie it started with.
    """

    def __init__(self, secret: str, *, expiration_seconds: int = 600, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret.encode()
        self.expiration_seconds = expiration_seconds
        self.clock = clock
        self._used: TtlCache[str, bool] = TtlCache(10_000, expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        """Where bolt may log about states."""
        return _log

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state."""
        payload = f"{secrets.token_urlsafe(16)}.{int(self.clock()) + self.expiration_seconds}"
        return f"{payload}.{self._sign(payload)}"

    async def async_consume(self, state: str) -> bool:
        """True once for a state this app issued that has not expired."""
        nonce, _, rest = (state or "").partition(".")
        expiry, _, signature = rest.partition(".")
        if not (nonce and expiry.isdecimal() and signature):
            return False
        if not hmac.compare_digest(self._sign(f"{nonce}.{expiry}"), signature):
            return False
        if int(expiry) < self.clock() or self._used.get(nonce):
            return False
        self._used.put(nonce, True)
        return True


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store in our database, its blocking calls in threads.

    Its tables (``slack_installations``, ``slack_bots``) are created on first use.
    """

    def __init__(self, client_id: str, engine: Engine) -> None:
        # Imported here: the module imports SQLAlchemy's asyncio extension, which needs greenlet;
        # single-workspace deployments do without it.
        try:
            from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        except ImportError as exc:
            raise ConfigError(
                "SLACK_CLIENT_ID: OAuth installs keep tokens with slack_sdk's SQLAlchemy store, which needs "
                f"SQLAlchemy's asyncio extra (pip install 'sqlalchemy[asyncio]'): {exc}"
            ) from exc

        self.store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=_log)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def logger(self) -> logging.Logger:
        """Where the store logs."""
        return _log

    def _ensure_tables(self) -> None:
        with self._lock:
            if not self._ready:
                try:
                    self.store.create_tables()  # type: ignore[no-untyped-call]
                except Exception:
                    # Another process may have created them between the check and the CREATE.
                    self.store.create_tables()  # type: ignore[no-untyped-call]
                self._ready = True

    async def _run(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        def call() -> Any:
            self._ensure_tables()
            return fn(**kwargs)

        return await asyncio.to_thread(call)

    async def async_save(self, installation: Installation) -> None:
        """Save an installation (and its bot)."""
        await self._run(self.store.save, installation=installation)

    async def async_save_bot(self, bot: SlackBot) -> None:
        """Save a bot installation."""
        await self._run(self.store.save_bot, bot=bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> SlackBot | None:
        """The latest bot installation of a workspace."""
        found: SlackBot | None = await self._run(
            self.store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The latest installation of a workspace (by a user)."""
        found: Installation | None = await self._run(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete a workspace's bot tokens."""
        await self._run(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Delete a workspace's installations (by a user)."""
        await self._run(self.store.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete everything kept about a workspace's installation."""
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


def installation_engine(store: object) -> Engine:
    """The store's SQLAlchemy engine, or an in-memory SQLite one for a store without (tests, MemoryStore)."""
    from sqlalchemy import Engine, create_engine
    from sqlalchemy.pool import StaticPool

    engine = getattr(store, "engine", None)
    if isinstance(engine, Engine):
        return engine
    return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


# ------------------------------------------------------------------------------ sender
TokenLookup = Callable[[str], Awaitable[str | None]]
DmCache = TtlCache[tuple[str, str], str]


class SlackSender:
    """Sends reminders to a user's DM with the bot, about one message per second per channel.

    Args:
        client: Web API client (its 429 handler waits out short Retry-After values).
        token_for: The bot token of a workspace (team id), None when the app is not installed there.
        min_interval: Seconds between two messages to one channel.
        dms: Cache of DM channel ids by (team, user), shared with the platform.
        clock: Monotonic seconds (pacing).
        sleep: Waits (pacing).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        token_for: TokenLookup,
        *,
        min_interval: float = 1.0,
        dms: DmCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.token_for = token_for
        self.min_interval = min_interval
        self.dms: DmCache = dms if dms is not None else TtlCache(10_000, 24 * 3600)
        self.clock = clock
        self.sleep = sleep
        self._next_slot: dict[str, float] = {}

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Post ``reply`` in the user's DM.

        Raises:
            PermanentSendError: The workspace uninstalled the app, or the user or channel is gone.
            TransientSendError: Rate limited beyond the wait the client accepts, 5xx, timeout.
        """
        token = await self.token_for(key.workspace)
        if not token:
            raise PermanentSendError(f"slack: the app is not installed in workspace {key.workspace}")
        try:
            channel = await self._dm(token, key)
            for message in render_messages(reply, owner=key.user):
                await self._pace(channel)
                await self.client.chat_postMessage(
                    token=token,
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            raise send_error(exc) from None

    async def _dm(self, token: str, key: UserKey) -> str:
        cached = self.dms.get((key.workspace, key.user))
        if cached:
            return cached
        response = await self.client.conversations_open(token=token, users=key.user)
        channel = str(response["channel"]["id"])
        self.dms.put((key.workspace, key.user), channel)
        return channel

    async def _pace(self, channel: str) -> None:
        # Each send reserves the next free slot of its channel before waiting, so concurrent
        # sends to one channel queue up one interval apart.
        now = self.clock()
        slot = max(now, self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + self.min_interval
        if len(self._next_slot) > 10_000:
            self._next_slot = {c: t for c, t in self._next_slot.items() if t > now}
        if slot > now:
            await self.sleep(slot - now)


# ------------------------------------------------------------------------------ platform
@dataclass(frozen=True, slots=True)
class _Where:
    """Where the replies of one turn go."""

    client: AsyncWebClient
    channel: str
    owner: str
    thread_ts: str | None = None
    update_ts: str | None = None
    respond: AsyncRespond | None = None
    ephemeral: bool = False
    ephemeral_to: str | None = None


@dataclass(frozen=True, slots=True)
class _Message:
    """What the reply to a message or mention needs from its event."""

    team: str
    user: str
    channel: str
    text: str
    thread: str | None
    token: str | None

    @classmethod
    def of(cls, event: dict[str, Any], team: str, token: str | None, *, mention: bool) -> _Message:
        text = event.get("text") or ""
        if mention:
            text = _MENTION.sub(" ", text)
        return cls(
            team=team,
            user=str(event["user"]),
            channel=str(event["channel"]),
            text=text,
            # A mention is answered in its thread; a DM in the thread it was written in, if any.
            thread=event.get("thread_ts") or (event.get("ts") if mention else None),
            token=token,
        )


class SlackPlatform:
    """Slack through slack-bolt: HTTP at ``/slack/events`` or Socket Mode, one or many workspaces.

    Listeners acknowledge at once and leave the work to a task of this platform, so Slack's
    3-second deadline holds whatever the handler or the Web API take, and :meth:`stop` can wait
    for the replies in flight. The work starts once the requests in flight are acknowledged
    (``gate``, see :class:`bot.web.AckFirst`).
    """

    name = "slack"

    def __init__(
        self,
        bot: SlackBotParts,
        config: SlackConfig,
        *,
        logger: logging.Logger | None = None,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.bot = bot
        self.config = config
        self.log = logger or _log
        sdk_log = sdk_logger()
        self.client = make_client(config, token=config.bot_token, logger=sdk_log)
        self.installations: ThreadedInstallationStore | None = None
        self.dms: DmCache = TtlCache(10_000, 24 * 3600)
        self._clients: TtlCache[str, AsyncWebClient] = TtlCache(1_000, 3600)
        self.profiles: TtlCache[tuple[str, str], tuple[str | None, str | None]] = TtlCache(10_000, 6 * 3600)
        # A workspace's bot user, as bolt's authorisation found it (see _keep_message).
        self._bot_users: TtlCache[str, str] = TtlCache(10_000, 3600)
        self.gate = AckFirst()
        store = bot.handler.store
        self.inbox = Inbox(
            self.name,
            store,
            self._process,
            clock=bot.handler.clock,
            gate=lambda: self.gate,
            workers=MAX_CONCURRENT_TURNS,
            reset_leases=store.inbox_exclusive,
            lease=lease,
        )
        self.shutdown_within = SHUTDOWN_WITHIN
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self._socket: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._sender_session: aiohttp.ClientSession | None = None
        self._verifier = SignatureVerifier(config.signing_secret) if config.signing_secret else None
        if config.oauth:
            # from_env checked that all three are set.
            assert config.client_id
            assert config.client_secret
            assert config.state_secret
            self.installations = ThreadedInstallationStore(config.client_id, installation_engine(bot.handler.store))
            settings = AsyncOAuthSettings(
                client_id=config.client_id,
                client_secret=config.client_secret,
                scopes=list(BOT_SCOPES),
                user_scopes=[],
                redirect_uri=config.redirect_uri,
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
                installation_store=self.installations,
                installation_store_bot_only=True,
                state_store=SignedStateStore(config.state_secret, clock=lambda: bot.handler.clock.now().timestamp()),
                logger=sdk_log,
            )
            authorize = AsyncInstallationStoreAuthorize(
                logger=sdk_log,
                installation_store=self.installations,
                client_id=config.client_id,
                client_secret=config.client_secret,
                bot_only=True,
                # Skips auth.test on every event once a workspace's token is known; the
                # installation itself is still looked up, so an uninstall takes effect at once.
                cache_enabled=True,
                client=self.client,
            )
            self.app = AsyncApp(
                name="hoc-bot",
                client=self.client,
                signing_secret=config.signing_secret,
                oauth_settings=settings,
                authorize=authorize,  # type: ignore[arg-type]  # bolt takes AsyncAuthorize instances too
                installation_store_bot_only=True,
                process_before_response=True,
                # _events checks the signature before anything is parsed; Socket Mode has none.
                request_verification_enabled=False,
                logger=sdk_log,
            )
        else:
            self.app = AsyncApp(
                name="hoc-bot",
                client=self.client,
                signing_secret=config.signing_secret,
                process_before_response=True,
                # _events checks the signature before anything is parsed; Socket Mode has none.
                request_verification_enabled=False,
                logger=sdk_log,
            )
        sender_client = make_client(config, max_wait=10.0, retry_server_errors=False, timeout=10, logger=sdk_log)
        self.slack_sender = SlackSender(sender_client, self.token_for, dms=self.dms)
        self.sender: Sender = self.slack_sender
        self._register()

    @classmethod
    def from_env(cls, env: Mapping[str, str], bot: SlackBotParts) -> SlackPlatform:
        """The platform configured by the ``SLACK_*`` variables of ``env``.

        Raises:
            ConfigError: A variable is missing or inconsistent (see :meth:`SlackConfig.from_env`).
        """
        return cls(bot, SlackConfig.from_env(env), lease=lease_from_env(env))

    # ------------------------------------------------------------------ Platform protocol
    def routes(self) -> Sequence[web.RouteDef]:
        """``POST /slack/events`` in HTTP mode; the OAuth install routes with OAuth."""
        routes: list[web.RouteDef] = []
        if not self.config.socket_mode:
            routes.append(web.post("/slack/events", self._events))
        if self.config.oauth:
            routes.append(web.get("/slack/install", self._oauth))
            routes.append(web.get("/slack/oauth_redirect", self._oauth))
        return routes

    async def start(self) -> None:
        """Share one HTTP connection pool among the Web API clients, handle the inbox, connect in Socket Mode."""
        if self._session is None:
            # Without sessions of their own, every Web API call would open and close a connection. A
            # client on a running session takes its time-out from the session, hence one each.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self._sender_session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.slack_sender.client.timeout)
            )
            self.client.session = self._session
            self.slack_sender.client.session = self._sender_session
        await self.inbox.start()
        if self.config.socket_mode and self._socket is None:
            self._socket = self.socket_handler()
            await self._socket.connect_async()
            self.log.info("slack: connected in Socket Mode")

    def socket_handler(self) -> Any:
        """The Socket Mode handler of this app (its client opens connections through SLACK_API_URL)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        return AsyncSocketModeHandler(self.app, self.config.app_token, logger=sdk_logger(), web_client=self.client)

    async def stop(self) -> None:
        """Disconnect, finish the replies in flight for ``shutdown_within`` seconds, leave the rest in the inbox."""
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()
        left = await self.inbox.stop(self.shutdown_within)
        if left:
            self.log.warning("slack: %d events left in the inbox for the next start", left)
        if self._session is not None:
            sessions = (self._session, self._sender_session)
            self._session = self._sender_session = None
            self.client.session = None
            self.slack_sender.client.session = None
            self._clients = TtlCache(1_000, 3600)
            for session in sessions:
                if session is not None:
                    await session.close()

    async def drain(self, within: float = 30.0) -> int:
        """Wait until every event kept is handled (or ``within`` seconds passed); how many are left."""
        return await self.inbox.drain(within)

    async def token_for(self, team: str) -> str | None:
        """The bot token for workspace ``team``: the configured one, or the installed one with OAuth."""
        if self.installations is None:
            return self.config.bot_token
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team or None)
        return bot.bot_token if bot is not None else None

    # ------------------------------------------------------------------ HTTP
    async def _events(self, request: web.Request) -> web.Response:
        problem = header_problem(
            request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature"), time.time()
        )
        if problem is not None:
            # Before the body is read: a client without the signing secret costs no memory.
            return web.Response(status=401, text="invalid request signature")
        raw = await BODIES.read(request)  # over the limit: 413; too slow: 408
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = raw.decode("utf-8")
            valid = self._verifier is not None and self._verifier.is_valid_request(body, headers)
        except (UnicodeDecodeError, ValueError):
            valid = False
        if not valid:
            # Checked before parsing so that nothing unsigned reaches a parser (bolt does not check again).
            return web.Response(status=401, text="invalid request signature")
        try:
            unusable, callback = checked_body(body, request.headers.get("Content-Type", ""))
        except Malformed:
            return web.Response(status=400, text="malformed body")
        if unusable is not None:
            # Signed, so Slack's: acknowledged (a 200 is not retried) and left alone.
            self.log.warning("slack: a signed request was ignored: %s", unusable)
            return web.Response(status=200)
        if callback is not None and await self._keep_message(callback):
            return web.Response(status=200)
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers={k.lower(): request.headers.getall(k) for k in request.headers},
            )
            response = await self.app.async_dispatch(bolt_request)
        except Exception as exc:
            self.log.warning("slack: a signed request could not be dispatched: %s", type(exc).__name__)
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    async def _oauth(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            response = await flow.handle_installation(bolt_request)
        else:
            response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(response)

    async def _keep_message(self, body: dict[str, Any]) -> bool:
        """Keep a message event without bolt's dispatch, which costs as much as the rest of the
        acknowledgement; True when done (the request is then acknowledged), False to leave it to bolt.

        Only the events bolt would hand to :meth:`_on_message` or :meth:`_on_mention` unchanged: a
        workspace's own (not an organisation-wide install) whose bot user bolt gave before.
        """
        event = body.get("event")
        if body.get("type") != "event_callback" or not isinstance(event, dict):
            return False
        kind = {"message": "message", "app_mention": "mention"}.get(str(event.get("type")))
        team = body.get("team_id")
        if kind is None or not isinstance(team, str) or _organisation_install(body):
            return False
        bot_user = self._bot_users.get(team)
        if bot_user is None:
            return False
        if is_user_message(event, bot_user, mention=kind == "mention"):
            enterprise = body.get("enterprise_id")
            await self._keep(kind, body, team, enterprise if isinstance(enterprise, str) else None, event.get("user"))
        return True

    # ------------------------------------------------------------------ listeners
    def _register(self) -> None:
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)
        self.app.command(COMMAND)(self._on_command)
        self.app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._on_action)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        self._learn_bot_user(body, context)
        if is_user_message(event, context.bot_user_id, mention=False):
            await self._keep_bolt("message", body, context, event.get("user"))

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        self._learn_bot_user(body, context)
        if is_user_message(event, context.bot_user_id, mention=True):
            await self._keep_bolt("mention", body, context, event.get("user"))

    async def _on_home_opened(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab") == "home" and event.get("user"):
            await self._keep_bolt("home_opened", body, context, event.get("user"))

    async def _on_uninstalled(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._keep_bolt("uninstalled", body, context, None)

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._keep_bolt("tokens_revoked", body, context, None)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._keep_bolt("command", body, context, body.get("user_id"))
        await ack()

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._keep_bolt("action", body, context, (body.get("user") or {}).get("id"))
        await ack()

    def _learn_bot_user(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Remember the workspace's bot user that bolt found, for :meth:`_keep_message`."""
        team = body.get("team_id")
        if not context.bot_user_id or not isinstance(team, str) or _organisation_install(body):
            return
        if context.team_id == team:
            self._bot_users.put(team, context.bot_user_id)

    async def _keep_bolt(self, kind: str, body: dict[str, Any], context: AsyncBoltContext, user: object) -> None:
        await self._keep(kind, body, _team(body, context), context.enterprise_id, user)

    async def _keep(self, kind: str, body: dict[str, Any], team: str, enterprise: str | None, user: object) -> None:
        """Keep a request in the inbox; it is acknowledged once this returns (an error: not acknowledged).

        An event's key is its ``event_id`` (Slack retries keep it); a command's or a button's is the
        digest of its body (it holds a ``trigger_id`` of its own): a signed request replayed while
        the key is kept is not handled twice.
        """
        key = (
            str(body.get("event_id") or "")
            or "sha256:"
            + hashlib.sha256(
                json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
            ).hexdigest()
        )
        payload = {"kind": kind, "team": team, "enterprise": enterprise, "body": body}
        if not await self.inbox.put(key, f"{team}:{user or ''}", payload):
            retry = body.get("retry_attempt")
            self.log.info("slack: %s %s received already (retry %s)", kind, key[:20], "?" if retry is None else retry)

    # ------------------------------------------------------------------ work
    async def _process(self, turn: Turn) -> None:
        """Handle a request kept in the inbox."""
        data = turn.payload
        kind, team, body = str(data["kind"]), str(data["team"]), data["body"]
        token = await self.token_for(team)
        if kind == "uninstalled":
            await self._revoked(team, data.get("enterprise"), {"bot": ["*"]})
        elif kind == "tokens_revoked":
            await self._revoked(team, data.get("enterprise"), (body.get("event") or {}).get("tokens") or {})
        elif token is None:
            self.log.info("slack: workspace %s is not installed; its %s is left unanswered", team, kind)
        elif kind in ("message", "mention"):
            await self._message(turn, _Message.of(body["event"], team, token, mention=kind == "mention"))
        elif kind == "home_opened":
            await self._home_opened(team, str(body["event"]["user"]), self._client_for(token))
        elif kind == "command":
            await self._command(turn, team, body, self._client_for(token))
        elif kind == "action":
            await self._action(turn, team, body, self._client_for(token))

    async def _message(self, turn: Turn, m: _Message) -> None:
        where = _Where(self._client_for(m.token), m.channel, m.user, thread_ts=m.thread)
        await self._turn(turn, m.team, m.user, m.channel, plain(m.text).strip(), where)

    async def _command(self, turn: Turn, team: str, body: dict[str, Any], client: AsyncWebClient) -> None:
        user, channel = str(body["user_id"]), str(body.get("channel_id") or "")
        text = f"{COMMAND} {plain(body.get('text') or '')}".strip()
        in_our_dm = channel.startswith("D") and channel == await self._dm_channel(client, team, user)
        # In the bot's DM the answer is a normal message (its buttons can update it); elsewhere
        # it is shown only to the user who typed the command.
        respond = self._respond_to(body)
        where = _Where(client, channel, user, respond=respond, ephemeral=not in_our_dm)
        await self._turn(turn, team, user, channel, text, where)

    def _respond_to(self, body: Mapping[str, Any]) -> AsyncRespond | None:
        url = body.get("response_url")
        return AsyncRespond(response_url=url, proxy=self.client.proxy, ssl=self.client.ssl) if url else None

    async def _action(self, turn: Turn, team: str, body: dict[str, Any], client: AsyncWebClient) -> None:
        actions = body.get("actions") or []
        value = actions[0].get("value") if actions else None
        user = (body.get("user") or {}).get("id")
        if not value or not user:
            return
        respond = self._respond_to(body)
        container = body.get("container") or {}
        if container.get("type") == "view":
            await self._home_action(team, str(user), str(value), client)
            return
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        owner = block_owner(str(actions[0].get("block_id") or ""))
        where = _Where(
            client,
            channel,
            str(user),
            thread_ts=message.get("thread_ts"),
            update_ts=container.get("message_ts") or message.get("ts"),
            respond=respond,
            ephemeral=bool(container.get("is_ephemeral")),
            # Someone else's buttons: answer this user privately, leave the message as it is.
            ephemeral_to=str(user) if owner != user else None,
        )
        await self._turn(turn, team, str(user), channel, str(value), where, action=True)

    async def _turn(
        self, turn: Turn, team: str, user: str, channel: str, text: str, where: _Where, *, action: bool = False
    ) -> None:
        async def answer() -> list[Reply]:
            msg = await self._incoming(where.client, team, user, channel, text, action=action)
            return await self._handle(msg)

        async with self._lock(team, user):
            replies = await turn.replies(answer)
            await turn.deliver(replies, lambda reply: self._deliver(reply, where))

    async def _deliver(self, reply: Reply, where: _Where) -> None:
        messages = render_messages(reply, owner=where.owner)
        if not messages:
            return
        if where.ephemeral and where.respond is not None:
            for i, message in enumerate(messages):
                await self._respond(where.respond, message, replace=reply.replace and i == 0)
            return
        if where.ephemeral_to is not None:
            for message in messages:
                await self._api(
                    "chat.postEphemeral",
                    where.client.chat_postEphemeral(
                        channel=where.channel,
                        user=where.ephemeral_to,
                        text=message.text,
                        blocks=message.blocks,
                        thread_ts=where.thread_ts,
                    ),
                )
            return
        if reply.replace and where.update_ts:
            first, *messages = messages
            update = where.client.chat_update(
                channel=where.channel, ts=where.update_ts, text=first.text, blocks=first.blocks
            )
            await self._api("chat.update", update)
        for message in messages:
            await self._post(where.client, where.channel, message, where.thread_ts)

    async def _post(self, client: AsyncWebClient, channel: str, message: SlackMessage, thread: str | None) -> None:
        await self._api(
            "chat.postMessage",
            client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )

    async def _respond(self, respond: AsyncRespond, message: SlackMessage, *, replace: bool) -> None:
        try:
            response = await respond(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=replace,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.log.warning(
                "slack: response_url post failed: %s", type(exc).__name__, extra=_api_error(type(exc).__name__)
            )
            return
        if response.status_code != 200:
            code = str(response.status_code)
            self.log.warning("slack: response_url answered %s", code, extra=_api_error(code))

    async def _api(self, method: str, call: Awaitable[Any]) -> Any:
        """Await a Web API call; failures are logged (by error code) and give None."""
        try:
            return await call
        except SlackApiError as exc:
            code = error_code(exc)
            self.log.warning("slack: %s failed: %s", method, code, extra=_api_error(code))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.log.warning("slack: %s failed: %s", method, type(exc).__name__, extra=_api_error(type(exc).__name__))
        return None

    # ------------------------------------------------------------------ App Home
    async def _home_opened(self, team: str, user: str, client: AsyncWebClient) -> None:
        async with self._lock(team, user):
            await self._publish_home(client, team, user)

    async def _home_action(self, team: str, user: str, value: str, client: AsyncWebClient) -> None:
        async with self._lock(team, user):
            msg = await self._incoming(client, team, user, "", value, action=True)
            replies = await self._handle(msg)
            # The Home tab shows the plan itself; anything else goes to the user's DM.
            others = [r for r in replies if not r.replace and r.kind != "plan"]
            if others:
                dm = await self._dm_channel(client, team, user)
                if dm:
                    where = _Where(client, dm, user)
                    for reply in others:
                        await self._deliver(reply, where)
            await self._publish_home(client, team, user)

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str) -> None:
        msg = await self._incoming(client, team, user, "", "plan", action=True)
        replies = await self._handle(msg)
        lang = replies[-1].lang if replies else self.bot.handler.settings.default_locale
        footer = await asyncio.to_thread(self._reminder_line, UserKey(self.name, team, user), lang)
        view = render_home(replies, footer, owner=user)
        await self._api("views.publish", client.views_publish(user_id=user, view=view))

    def _reminder_line(self, key: UserKey, lang: str) -> str:
        store = self.bot.handler.store
        t = self.bot.catalogs.get(lang)
        user = store.get_user(key)
        if user is not None and not user.reminders_enabled:
            return t.gettext("Your reminders are paused: type “reminders on” to receive them.")
        pending = store.list_reminders(key, status="pending")
        if not pending:
            return t.gettext("No reminder planned.")
        zone_name = (user.tz if user else None) or self.bot.onboarding.settings.default_tz
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(self.bot.onboarding.settings.default_tz)
        return t.gettext("Next reminder: {when}").format(when=t.format_datetime(pending[0].due_at.astimezone(zone)))

    # ------------------------------------------------------------------ uninstall
    async def _revoked(self, team: str, enterprise: str | None, tokens: Mapping[str, Any]) -> None:
        if self.installations is not None:
            for user in tokens.get("oauth") or []:
                await self.installations.async_delete_installation(
                    enterprise_id=enterprise, team_id=team, user_id=str(user)
                )
            if tokens.get("bot"):
                await self.installations.async_delete_all(enterprise_id=enterprise, team_id=team)
        if not tokens.get("bot"):
            return
        paused = await asyncio.to_thread(self._pause_workspace, team)
        self.dms.discard_where(lambda k: k[0] == team)
        self.profiles.discard_where(lambda k: k[0] == team)
        self.log.info("slack: workspace %s removed the app; reminders paused for %d users", team, paused)

    def _pause_workspace(self, team: str) -> int:
        store = self.bot.handler.store
        keys = {
            r.key
            for r in store.list_reminders(None, status="pending")
            if r.key.platform == self.name and r.key.workspace == team
        }
        for key in keys:
            store.set_reminders_enabled(key, False)
        return len(keys)

    # ------------------------------------------------------------------ helpers
    def _lock(self, team: str, user: str) -> asyncio.Lock:
        # One turn at a time per user: replies keep their order and progress updates do not race.
        lock = self._locks.get((team, user))
        if lock is None:
            lock = asyncio.Lock()
            self._locks[(team, user)] = lock
        return lock

    def _client_for(self, token: str | None) -> AsyncWebClient:
        """A Web API client with ``token`` (a workspace's, with OAuth), on the shared connection pool."""
        if token is None or token == self.client.token:
            return self.client
        client = self._clients.get(token)
        if client is None:
            client = make_client(self.config, token=token, logger=self.client.logger)
            client.session = self._session
            self._clients.put(token, client)
        return client

    async def _incoming(
        self, client: AsyncWebClient, team: str, user: str, chat: str, text: str, *, action: bool = False
    ) -> IncomingMessage:
        locale, tz = await self._profile(client, team, user)
        return IncomingMessage(
            self.name, user, text, workspace=team, chat=chat, locale_hint=locale, action=action, tz_hint=tz
        )

    async def _profile(self, client: AsyncWebClient, team: str, user: str) -> tuple[str | None, str | None]:
        cached = self.profiles.get((team, user))
        if cached is not None:
            return cached
        response = await self._api("users.info", client.users_info(user=user, include_locale=True))
        if response is None:
            # Try again later, but not on every message.
            self.profiles.put((team, user), (None, None), ttl=300)
            return None, None
        info = response.get("user") or {}
        profile = (_str_or_none(info.get("locale")), _str_or_none(info.get("tz")))
        self.profiles.put((team, user), profile)
        return profile

    async def _dm_channel(self, client: AsyncWebClient, team: str, user: str) -> str | None:
        cached = self.dms.get((team, user))
        if cached:
            return cached
        response = await self._api("conversations.open", client.conversations_open(users=user))
        if response is None:
            return None
        channel = str((response.get("channel") or {}).get("id") or "")
        if channel:
            self.dms.put((team, user), channel)
        return channel or None

    async def _handle(self, msg: IncomingMessage) -> list[Reply]:
        try:
            return await asyncio.to_thread(self.bot.handler.handle, msg)
        except Exception:
            self.log.exception("slack: the handler failed")
            catalogs = self.bot.catalogs
            lang = catalogs.negotiate(msg.locale_hint, self.bot.handler.settings.default_locale)
            t = catalogs.get(lang)
            return [
                Reply(
                    t.gettext("Sorry, something went wrong on my side. Please try again in a moment."),
                    lang=lang,
                    kind="error",
                )
            ]


def is_user_message(event: Mapping[str, Any], bot_user_id: str | None, *, mention: bool) -> bool:
    """True for a message a person wrote to the bot: not the bot's, another bot's, an edit or a deletion."""
    if event.get("subtype") not in _HANDLED_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user") or not event.get("channel"):
        return False
    if bot_user_id and event.get("user") == bot_user_id:
        return False
    if mention:
        # A mention in a DM arrives as a message.im too; that one is answered.
        return not str(event["channel"]).startswith("D")
    return event.get("channel_type") == "im"


def _organisation_install(body: Mapping[str, Any]) -> bool:
    """An event of an organisation-wide (Enterprise Grid) installation: bolt finds its workspace."""
    if body.get("is_enterprise_install"):
        return True
    authorizations = body.get("authorizations")
    return isinstance(authorizations, list) and any(
        isinstance(a, dict) and a.get("is_enterprise_install") for a in authorizations
    )


def _team(body: Mapping[str, Any], context: AsyncBoltContext) -> str:
    team = context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or ""
    return str(team)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


__all__ = [
    "BOT_SCOPES",
    "SignedStateStore",
    "SlackConfig",
    "SlackPlatform",
    "SlackSender",
    "ThreadedInstallationStore",
    "TtlCache",
    "is_user_message",
    "send_error",
]
