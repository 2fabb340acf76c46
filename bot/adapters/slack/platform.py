"""Slack's platform for ``hoc-bot run``: requests in (HTTP or Socket Mode) through the inbox, each turn
answered in its channel, thread, ephemeral message or App Home."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
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
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.inbox import LEASE, SHUTDOWN_WITHIN, Inbox, Turn, lease_from_env
from bot.adapters.slack.client import make_client, sdk_logger
from bot.adapters.slack.config import BOT_SCOPES, COMMAND, SlackConfig
from bot.adapters.slack.delivery import Replies, Where
from bot.adapters.slack.input import (
    Malformed,
    MessageEvent,
    checked_body,
    header_problem,
    is_user_message,
    organisation_install,
    request_key,
    str_or_none,
    team_of,
)
from bot.adapters.slack.oauth import SignedStateStore, ThreadedInstallationStore, installation_engine
from bot.adapters.slack.render import ACTION_PREFIX, block_owner, plain, render_home
from bot.adapters.slack.sender import DmCache, SlackSender
from bot.adapters.toolkit.caches import TtlCache
from bot.adapters.toolkit.parts import HandlerParts
from bot.core.messages import IncomingMessage, Reply
from bot.core.ports import Sender, Translations, UserKey
from bot.web import BODIES, AckFirst

if TYPE_CHECKING:
    from bot.core.onboarding import Onboarding

_log = logging.getLogger(__name__)

#: Events, commands and button presses worked on at once (the others wait, in arrival order).
MAX_CONCURRENT_TURNS = 64


class SlackBotParts(HandlerParts, Protocol):
    """What the adapter needs of :class:`bot.app.Bot`."""

    @property
    def onboarding(self) -> Onboarding:
        """The plan extension (default zone)."""
        ...

    @property
    def catalogs(self) -> Translations:
        """Interface catalogs."""
        ...


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
        self.inbox = Inbox.for_platform(
            self.name, bot.handler, self._process, lambda: self.gate, workers=MAX_CONCURRENT_TURNS, lease=lease
        )
        self.replies = Replies(self.log)
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
        await self.inbox.close(self.shutdown_within, self.log, "slack")
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
        if kind is None or not isinstance(team, str) or organisation_install(body):
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
        if not context.bot_user_id or not isinstance(team, str) or organisation_install(body):
            return
        if context.team_id == team:
            self._bot_users.put(team, context.bot_user_id)

    async def _keep_bolt(self, kind: str, body: dict[str, Any], context: AsyncBoltContext, user: object) -> None:
        await self._keep(kind, body, team_of(body, context), context.enterprise_id, user)

    async def _keep(self, kind: str, body: dict[str, Any], team: str, enterprise: str | None, user: object) -> None:
        """Keep a request in the inbox; it is acknowledged once this returns (an error: not acknowledged).

        An event's key is its ``event_id`` (Slack retries keep it); a command's or a button's is the
        digest of its body (it holds a ``trigger_id`` of its own): a signed request replayed while
        the key is kept is not handled twice.
        """
        key = request_key(body)
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
            await self._message(turn, MessageEvent.of(body["event"], team, token, mention=kind == "mention"))
        elif kind == "home_opened":
            await self._home_opened(team, str(body["event"]["user"]), self._client_for(token))
        elif kind == "command":
            await self._command(turn, team, body, self._client_for(token))
        elif kind == "action":
            await self._action(turn, team, body, self._client_for(token))

    async def _message(self, turn: Turn, m: MessageEvent) -> None:
        where = Where(self._client_for(m.token), m.channel, m.user, thread_ts=m.thread)
        await self._turn(turn, m.team, m.user, m.channel, plain(m.text).strip(), where)

    async def _command(self, turn: Turn, team: str, body: dict[str, Any], client: AsyncWebClient) -> None:
        user, channel = str(body["user_id"]), str(body.get("channel_id") or "")
        text = f"{COMMAND} {plain(body.get('text') or '')}".strip()
        in_our_dm = channel.startswith("D") and channel == await self._dm_channel(client, team, user)
        # In the bot's DM the answer is a normal message (its buttons can update it); elsewhere
        # it is shown only to the user who typed the command.
        respond = self._respond_to(body)
        where = Where(client, channel, user, respond=respond, ephemeral=not in_our_dm)
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
        where = Where(
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
        self, turn: Turn, team: str, user: str, channel: str, text: str, where: Where, *, action: bool = False
    ) -> None:
        async def answer() -> list[Reply]:
            msg = await self._incoming(where.client, team, user, channel, text, action=action)
            return await self._handle(msg)

        async with self._lock(team, user):
            replies = await turn.replies(answer)
            await turn.deliver(replies, lambda reply: self.replies.deliver(reply, where))

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
                    where = Where(client, dm, user)
                    for reply in others:
                        await self.replies.deliver(reply, where)
            await self._publish_home(client, team, user)

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str) -> None:
        msg = await self._incoming(client, team, user, "", "plan", action=True)
        replies = await self._handle(msg)
        lang = replies[-1].lang if replies else self.bot.handler.settings.default_locale
        footer = await asyncio.to_thread(self._reminder_line, UserKey(self.name, team, user), lang)
        view = render_home(replies, footer, owner=user)
        await self.replies.api("views.publish", client.views_publish(user_id=user, view=view))

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
        response = await self.replies.api("users.info", client.users_info(user=user, include_locale=True))
        if response is None:
            # Try again later, but not on every message.
            self.profiles.put((team, user), (None, None), ttl=300)
            return None, None
        info = response.get("user") or {}
        profile = (str_or_none(info.get("locale")), str_or_none(info.get("tz")))
        self.profiles.put((team, user), profile)
        return profile

    async def _dm_channel(self, client: AsyncWebClient, team: str, user: str) -> str | None:
        cached = self.dms.get((team, user))
        if cached:
            return cached
        response = await self.replies.api("conversations.open", client.conversations_open(users=user))
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
