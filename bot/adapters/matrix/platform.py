"""Matrix for ``hoc-bot run``: a supervised sync loop feeding the durable inbox, and the replies.

Each sync's events for the bot are kept in the inbox before the sync token moves on (the token is
kept in the database, not by nio, which would keep it before handing the events over): an event
received is answered, even when the process is killed before replying. The loop is supervised: when
it fails (a homeserver error, a bug in a callback), it is started again from the last kept token,
the restart is counted in ``/metrics`` and ``/readyz`` says so until a sync succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiohttp import web
from nio import (
    AsyncClient,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomMessageText,
    SyncResponse,
)
from nio.exceptions import LocalProtocolError

from bot.adapters.inbox import LEASE, SHUTDOWN_WITHIN, Inbox, Turn, lease_from_env
from bot.adapters.matrix import convert
from bot.adapters.matrix.config import MatrixConfig, server_of
from bot.adapters.matrix.delivery import MatrixSender, MatrixSendError, Outbox, api_error, hint, undecryptable
from bot.adapters.matrix.session import load_sync_token, open_session, save_sync_token
from bot.adapters.toolkit.pacing import Backoff
from bot.adapters.toolkit.parts import HandlerParts
from bot.core.errors import ConfigError
from bot.core.messages import Button, Reply
from bot.core.ports import PlatformStateStore, Sender, Translator, UserKey
from bot.web import AckFirst

_log = logging.getLogger(__name__)

#: Long-polling timeout of a sync, in seconds.
SYNC_TIMEOUT = 30.0
#: First wait before the sync loop is started again after a failure (doubling up to a minute).
RESTART_DELAY = 1.0


class Catalogs(Protocol):
    """What the adapter needs of the interface catalogs."""

    @property
    def default(self) -> str:
        """The default language."""
        ...

    def get(self, lang: str) -> Translator:
        """The translator of ``lang``."""
        ...

    def negotiate(self, *candidates: str | None) -> str:
        """The first supported language among ``candidates``."""
        ...


class Counter(Protocol):
    """A Prometheus counter with labels."""

    def labels(self, *values: str) -> Any:
        """The child counter of ``values``."""
        ...


class Metrics(Protocol):
    """The metrics the adapter updates."""

    @property
    def sync_restarts(self) -> Counter:
        """Restarts of a platform's sync loop."""
        ...


class BotParts(HandlerParts, Protocol):
    """The wired bot (bot.app.Bot) as the adapter sees it."""

    @property
    def catalogs(self) -> Catalogs:
        """Interface catalogs."""
        ...

    @property
    def metrics(self) -> Metrics | None:
        """Metrics of ``hoc-bot run`` (None elsewhere)."""
        ...


class MatrixPlatform:
    """Matrix (and Tchap) with end-to-end encryption, for ``hoc-bot run``.

    Args:
        config: Homeserver, account, store directory, allowed servers.
        bot: The wired bot.
        lease: How long a process that died keeps its events from the others.
        sync_timeout: Long-polling timeout of a sync, in seconds.
        restart_delay: First wait before the sync loop is started again after a failure.
    """

    name = "matrix"
    #: Reminders go out from ``hoc-bot run``: a second process may not use the bot's device (its keys).
    sends_from_worker = False

    def __init__(
        self,
        config: MatrixConfig,
        bot: BotParts,
        *,
        lease: dt.timedelta = LEASE,
        sync_timeout: float = SYNC_TIMEOUT,
        restart_delay: float = RESTART_DELAY,
    ) -> None:
        store = bot.handler.store
        if not isinstance(store, PlatformStateStore):
            raise ConfigError("Matrix needs a store that keeps the bot's session (the SQL or memory store)")
        self.config = config
        self.bot = bot
        self.state: PlatformStateStore = store
        self.sync_timeout = sync_timeout
        self.restart_delay = restart_delay
        self.gate = AckFirst()
        self.inbox = Inbox.for_platform(self.name, bot.handler, self._process, lambda: self.gate, lease=lease)
        self.shutdown_within = SHUTDOWN_WITHIN
        self._client: AsyncClient | None = None
        self.outbox = Outbox(self.client, lambda lang: hint(bot.catalogs.get(lang)))
        self.sender: Sender = MatrixSender(self.outbox, self._wait_ready, self._joined)
        self.sync_restarts = 0
        self._since: str | None = None
        self._fresh = True
        self._started_ms = 0
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._last_sync = 0.0
        self._collected: list[dict[str, Any]] = []
        self._key_requested: set[str] = set()

    @classmethod
    def from_env(cls, env: Mapping[str, str], bot: BotParts, database_url: str = "") -> MatrixPlatform:
        """The platform configured by the MATRIX_* variables of ``env``."""
        return cls(MatrixConfig.from_env(env, database_url), bot, lease=lease_from_env(env))

    def client(self) -> AsyncClient:
        """The logged-in nio client (after :meth:`start`)."""
        if self._client is None:
            raise LocalProtocolError("Matrix: not signed in")
        return self._client

    # ------------------------------------------------------------------ lifecycle
    def routes(self) -> Sequence[web.RouteDef]:
        """None: Matrix events come by syncing."""
        return []

    async def start(self) -> None:
        """Sign in (the same device every time), then start the inbox and the supervised sync loop."""
        client = await open_session(self.config, self.state, self.bot.handler.clock)
        self._client = client
        self._since = await load_sync_token(self.state, client.device_id)
        # Without a kept token the first sync returns recent history: none of it is answered.
        self._fresh = self._since is None
        self._started_ms = int(time.time() * 1000)
        client.add_event_callback(self._on_text, RoomMessageText)
        client.add_event_callback(self._on_reaction, ReactionEvent)
        client.add_event_callback(self._on_undecryptable, MegolmEvent)
        client.add_event_callback(self._on_invite, InviteMemberEvent)
        await self.inbox.start()
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def stop(self) -> None:
        """Stop syncing, finish the events in hand for ``shutdown_within`` seconds, close the client."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5.0)
            self._task = None
        await self.inbox.close(self.shutdown_within, _log, "Matrix")
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._synced.clear()

    def health(self) -> dict[str, object]:
        """What ``/readyz`` reports: ready once synced, and while the sync loop works."""
        running = self._task is not None and not self._task.done()
        since = time.monotonic() - self._last_sync if self._last_sync else None
        fresh = since is not None and since < self.sync_timeout + 60
        return {
            "ready": running and self._synced.is_set() and not self._failing and fresh,
            "syncing": running and not self._failing,
            "sync_restarts": self.sync_restarts,
            "seconds_since_sync": None if since is None else round(since, 1),
        }

    async def _wait_ready(self, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                await self._synced.wait()
        except TimeoutError:
            return False
        return True

    def _joined(self, room_id: str) -> bool:
        return self._client is not None and room_id in self._client.rooms

    # ------------------------------------------------------------------ syncing
    async def _supervise(self) -> None:
        backoff = Backoff(self.restart_delay, 60.0)
        while True:
            try:
                await self._sync_loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.sync_restarts += 1
                self._failing = True
                metrics = self.bot.metrics
                if metrics is not None:
                    metrics.sync_restarts.labels(self.name).inc()
                _log.error(
                    "Matrix: the sync loop failed (%s); starting it again in %.1f s",
                    type(exc).__name__,
                    backoff.delay,
                    exc_info=exc,
                    extra={"fields": {"event": "sync_restart", "platform": self.name}},
                )
                await asyncio.sleep(backoff.next())
            else:
                return

    async def _sync_loop(self) -> None:
        client = self.client()
        # From the last kept token: a sync that failed half-way is done again (the inbox drops repeats).
        client.next_batch = self._since
        first = True
        while True:
            self._collected = []
            response = await client.sync(
                timeout=0 if first else int(self.sync_timeout * 1000),
                since=self._since,
                full_state=True if first else None,
            )
            if not isinstance(response, SyncResponse):
                raise ConnectionError(f"sync refused: {response.status_code} {response.message}")
            collected, self._collected = self._collected, []
            if collected:
                await asyncio.gather(*(self.inbox.put(str(p["event"]), convert.order_key(p), p) for p in collected))
            self._since = response.next_batch
            await save_sync_token(self.state, client.device_id, response.next_batch, self.bot.handler.clock)
            await self._keys(client)
            first = False
            self._failing = False
            self._last_sync = time.monotonic()
            self._synced.set()

    async def _keys(self, client: AsyncClient) -> None:
        """What nio's own loop does between syncs: to-device messages out, keys up, keys of others in."""
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # ------------------------------------------------------------------ events in (during a sync)
    def _old(self, ts: int) -> bool:
        return self._fresh and ts < self._started_ms

    def _direct(self, room: MatrixRoom) -> bool:
        return int(room.member_count) <= convert.DIRECT_MEMBERS

    def _me(self, room: MatrixRoom) -> convert.Me:
        me = self.client().user_id
        return convert.Me(me, room.user_name(me) or "")

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client().user_id or self._old(event.server_timestamp):
            return
        content = event.source.get("content")
        if not isinstance(content, dict):
            return
        payload = convert.text_payload(
            event.event_id,
            event.sender,
            event.server_timestamp,
            room.room_id,
            content,
            self._me(room),
            self._direct(room),
        )
        if payload is not None:
            self._collected.append(payload)

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender == self.client().user_id or self._old(event.server_timestamp):
            return
        payload = convert.reaction_payload(
            event.event_id,
            event.sender,
            event.server_timestamp,
            room.room_id,
            event.reacts_to,
            event.key,
            self._direct(room),
        )
        if payload is not None:
            self._collected.append(payload)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """A message that could not be decrypted: ask for its key, log it, and tell the user in a direct chat."""
        if event.sender == self.client().user_id or self._old(event.server_timestamp):
            return
        _log.warning(
            "Matrix: a message in %s could not be decrypted (session %s); its key was requested",
            room.room_id,
            event.session_id,
            extra={"fields": {"event": "undecryptable", "platform": self.name, "room": room.room_id}},
        )
        if event.session_id in self._key_requested:
            return
        self._key_requested.add(event.session_id)
        with contextlib.suppress(LocalProtocolError):  # requested already
            await self.client().request_room_key(event)
        if self._direct(room):
            self._collected.append(
                {
                    "kind": "undecryptable",
                    "room": room.room_id,
                    "event": event.event_id,
                    "sender": event.sender,
                    "ts": event.server_timestamp,
                    "direct": True,
                }
            )

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client().user_id or event.membership != "invite":
            return
        self._collected.append(
            {
                "kind": "invite",
                "room": room.room_id,
                # The batch it came in: the same invitation synced again is kept once.
                "event": f"invite:{room.room_id}:{self._since}",
                "sender": event.sender,
                "ts": 0,
                "direct": bool(event.content.get("is_direct")),
            }
        )

    # ------------------------------------------------------------------ events handled (from the inbox)
    async def _process(self, turn: Turn) -> None:
        payload = turn.payload
        if not isinstance(payload, dict):
            return
        await self._synced.wait()  # rooms, members and keys known before answering
        kind = payload.get("kind")
        if kind == "invite":
            await self._on_invitation(payload)
        elif kind == "text":
            text, action = str(payload["text"]), False
            number = convert.typed_number(text)
            if number is not None:
                last = await self._last_buttons(str(payload["room"]), str(payload["sender"]))
                button = convert.pressed(last, number)
                if button is not None:
                    text, action = button.id, True
            await self._answer(turn, payload, text, action)
        elif kind == "reaction":
            buttons = await self.outbox.buttons_of(payload["room"], payload["reacts_to"])
            button = convert.pressed(buttons, int(payload["number"]))
            if button is not None:
                await self._answer(turn, payload, button.id, True)
        elif kind == "undecryptable":
            await self._tell_undecryptable(payload)

    async def _answer(self, turn: Turn, payload: dict[str, Any], text: str, action: bool) -> None:
        msg = convert.incoming(payload, text, action=action)
        replies = await turn.replies(lambda: asyncio.to_thread(self.bot.handler.handle, msg))
        room, user = str(payload["room"]), str(payload["sender"])
        thread = payload.get("thread")
        reply_to = None if payload.get("direct") or action else str(payload["event"])

        async def send(reply: Reply) -> None:
            await self._send(room, reply, user=user, thread=thread, reply_to=reply_to)

        await turn.deliver(replies, send)
        if any(reply.kind == "forget" for reply in replies):
            await self._forget_rooms(user)
        elif any(reply.buttons for reply in replies) and (event := self.outbox.last_event(room, user)):
            now = self.bot.handler.clock.now()
            await asyncio.to_thread(self.state.save_state, self.name, _buttons_key(room, user), event, now)

    async def _last_buttons(self, room: str, user: str) -> tuple[Button, ...]:
        """The buttons a typed number presses: those of the last message with buttons sent to ``user`` in
        ``room``, remembered, or after a restart read back from the homeserver by the id kept in the
        database."""
        last = self.outbox.last_buttons(room, user)
        if last:
            return last
        event = await asyncio.to_thread(self.state.load_state, self.name, _buttons_key(room, user))
        return await self.outbox.buttons_of(room, event) if event else ()

    async def _send(self, room: str, reply: Reply, **where: Any) -> None:
        try:
            await self.outbox.send(room, reply, **where)
        except MatrixSendError as exc:
            _log.error(
                "Matrix: sending a %s reply failed: %s %s", reply.kind, exc.code, exc, extra=api_error(exc.code or "?")
            )
        except Exception as exc:
            _log.error(
                "Matrix: sending a %s reply failed: %s",
                reply.kind,
                type(exc).__name__,
                extra=api_error(type(exc).__name__),
            )

    async def _tell_undecryptable(self, payload: dict[str, Any]) -> None:
        sender = str(payload["sender"])
        user = await asyncio.to_thread(self.bot.handler.store.get_user, UserKey(self.name, "", sender))
        catalogs = self.bot.catalogs
        candidates = (user.locale, user.written_lang, user.locale_hint) if user else ()
        lang = catalogs.negotiate(*candidates, catalogs.default)
        reply = Reply(undecryptable(catalogs.get(lang)), lang=lang, kind="error")
        await self._send(str(payload["room"]), reply, user=sender)

    async def _on_invitation(self, payload: dict[str, Any]) -> None:
        client = self.client()
        room, sender = str(payload["room"]), str(payload["sender"])
        if room in client.rooms:
            return  # joined already
        if not self.config.allows(sender):
            _log.warning(
                "Matrix: refused the invitation of %s to %s: server %s is not in MATRIX_ALLOWED_SERVERS",
                sender,
                room,
                server_of(sender),
                extra={"fields": {"event": "invite_refused", "platform": self.name}},
            )
            await client.room_leave(room)
            return
        response = await client.join(room)
        if isinstance(response, JoinResponse):
            _log.info("Matrix: joined %s, invited by %s", room, sender)
        else:
            _log.warning(
                "Matrix: could not join %s: %s", room, response.message, extra=api_error(response.status_code or "?")
            )

    async def _forget_rooms(self, user: str) -> None:
        """After ``forget me``: leave and forget the direct chats with ``user`` (rooms shared with others stay)."""
        client = self.client()
        self.outbox.forget_user(user)
        for room in list(client.rooms.values()):
            if user in room.users:
                await asyncio.to_thread(self.state.delete_state, self.name, _buttons_key(room.room_id, user))
            if user in room.users and self._direct(room):
                await client.room_leave(room.room_id)
                await client.room_forget(room.room_id)
                _log.info("Matrix: left and forgot a direct chat after its user asked to be forgotten")


def _buttons_key(room: str, user: str) -> str:
    """Name under which the id of the last message with buttons to ``user`` in ``room`` is kept (a digest:
    ids are long, and the table need not show who talks where)."""
    return "buttons:" + hashlib.sha256(f"{room}\n{user}".encode()).hexdigest()[:48]
