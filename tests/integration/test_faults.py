"""Fault tests: platform APIs failing (429, 500, timeouts, resets), the database gone, one user flooding.

Everything runs through the real stacks (bolt on the shared aiohttp server, PTB polling, the
reminder senders and ReminderRunner on a SqlStore) against the fakes of tests/auxil on 127.0.0.1.
Each test asserts what reached the fake platform and what the store kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from bot.adapters.slack import SlackPlatform
from bot.adapters.telegram import TelegramConfig, TelegramPlatform
from bot.app import Bot, build_bot, build_platforms, load_knowledge
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.core.ports import InboxItem, Reminder, Store, UserKey
from bot.reminders.runner import ReminderRunner
from bot.store.engine import open_store
from bot.store.memory import MemoryStore
from bot.store.sql import SqlStore
from bot.web import create_app
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery, serve
from tests.auxil.fake_telegram_api import FakeTelegramAPI, load_update, telegram_env
from tests.auxil.harness import FakeClock
from tests.integration.test_slack import dm, text_of

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test_single"
TEAM = "T0001"
USER = "U0001"  # French (fr-FR) in the fake
DM = "DU0001"
CAMILLE = 424242  # the Telegram fixtures' French user
APOLOGY_FR = "Désolé, un problème est survenu de mon côté. Réessayez dans un instant."
ANSWER_SLACK = "*Étape 1 sur 5 : Recruter des écoles locales*"
ANSWER_TELEGRAM = "<b>Étape 1 sur 5 : Recruter des écoles locales</b>"
QUESTION = "comment recruter des écoles ?"
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every RetryAfter unless this opt-in is set; the adapter reads both forms.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(Settings.from_env({}))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    api = await FakeSlackApi().start()
    api.add_workspace(TEAM, TOKEN, bot_user="UBOT1")
    api.add_user(USER, TEAM, locale="fr-FR", tz="Europe/Paris")
    api.add_user("U0002", TEAM, locale="en-US", tz="America/Chicago")
    yield api
    await api.stop()


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


async def eventually(condition: Callable[[], object], within: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``within`` seconds passed; whether it held."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# ------------------------------------------------------------------------------------- stacks
@dataclass
class SlackServed:
    """The Slack platform of ``bot`` behind the shared aiohttp server, and Slack's side of it."""

    bot: Bot
    platform: SlackPlatform
    slack: SlackDelivery
    url: str

    async def say(self, text: str, event_id: str, *, user: str = USER) -> None:
        status, _ = await self.slack.event(dm(text, event_id, user=user))
        assert status == 200

    async def settle(self) -> None:
        await self.platform.drain(within=20)


@asynccontextmanager
async def slack_served(
    api: FakeSlackApi, store: Store, kb: KnowledgeBase, clock: FakeClock, *, api_timeout: int | None = None, **env: str
) -> AsyncIterator[SlackServed]:
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api.api_url, **env}
    )
    bot = build_bot(settings, store=store, clock=clock, kb=kb)
    [platform] = build_platforms(settings, bot)
    assert isinstance(platform, SlackPlatform)
    if api_timeout is not None:
        platform.client.timeout = api_timeout  # before start: the client's HTTP session takes it from there
    runner, url = await serve(create_app([platform]))
    slack = SlackDelivery(url, SECRET)
    try:
        yield SlackServed(bot, platform, slack, url)
    finally:
        await slack.close()
        await runner.cleanup()


@asynccontextmanager
async def telegram_polling(api: FakeTelegramAPI, bot: Bot) -> AsyncIterator[TelegramPlatform]:
    platform = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, poll_timeout=1)
    await platform.start()
    try:
        yield platform
    finally:
        await platform.stop()


def slack_posts(api: FakeSlackApi, channel: str = DM) -> list[str]:
    """The texts of the messages that reached ``channel``."""
    return [text_of(c) for c in api.calls_to("chat.postMessage", ok=True) if c.params.get("channel") == channel]


def logged(caplog: pytest.LogCaptureFixture, logger: str, fragment: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(logger) and fragment in r.getMessage()]


# ============================================================================ conversation replies
@pytest.mark.parametrize("fault", ["500", "reset"])
async def test_slack_reply_after_one_transient_failure_is_delivered_once(
    slack_api: FakeSlackApi, kb: KnowledgeBase, clock: FakeClock, fault: str
) -> None:
    # The Web API client retries one 5xx and one connection error (make_client's retry handlers).
    if fault == "500":
        slack_api.fail("chat.postMessage", status=500)
    else:
        slack_api.fail("chat.postMessage", reset=True)
    store = MemoryStore()
    async with slack_served(slack_api, store, kb, clock) as served:
        await served.say(QUESTION, f"EvOnce{fault}")
        await served.settle()
    attempts = slack_api.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [500 if fault == "500" else 0, 200, 200]
    assert attempts[0].params["blocks"] == attempts[1].params["blocks"]  # the same welcome, sent again
    welcome, answer = slack_posts(slack_api)
    assert "Bienvenue" in welcome
    assert ANSWER_SLACK in answer
    user = store.get_user(UserKey("slack", TEAM, USER))
    assert user is not None
    assert (user.welcomed, user.locale_hint) == (True, "fr-FR")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("500 twice", "internal_error"),
        ("reset twice", "ClientOSError"),
        ("timeout", "TimeoutError"),
        ("429 beyond the wait", "ratelimited"),
    ],
)
async def test_slack_reply_is_dropped_and_logged_past_the_retry_budget(
    slack_api: FakeSlackApi,
    kb: KnowledgeBase,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    reason: str,
) -> None:
    caplog.set_level(logging.WARNING)
    store = MemoryStore()
    async with slack_served(slack_api, store, kb, clock, api_timeout=1 if fault == "timeout" else None) as served:
        if fault == "500 twice":
            slack_api.fail("chat.postMessage", status=500, times=2)
        elif fault == "reset twice":
            slack_api.fail("chat.postMessage", reset=True, times=2)
        elif fault == "429 beyond the wait":
            slack_api.fail("chat.postMessage", status=429, retry_after=120)  # replies wait up to 30 s
        else:
            # slack_sdk's retry handlers leave timeouts alone (the post may have gone through).
            slack_api.fail("chat.postMessage", delay=2)
        await served.say(QUESTION, f"EvDrop{fault.replace(' ', '')}")
        await served.settle()
    [answer] = slack_posts(slack_api)  # the welcome was lost; the answer came once
    assert ANSWER_SLACK in answer
    assert len(logged(caplog, "bot.adapters.slack", f"chat.postMessage failed: {reason}")) == 1
    assert store.get_user(UserKey("slack", TEAM, USER)) is not None


@pytest.mark.parametrize("fault", ["500", "reset"])
async def test_telegram_reply_after_a_server_error_or_reset_is_retried_and_sent_once(
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
    fault: str,
) -> None:
    if fault == "500":
        telegram_api.fail("sendMessage", 500)
    else:
        telegram_api.reset("sendMessage")
    store = MemoryStore()
    bot = build_bot(Settings.from_env({}), store=store, clock=clock, kb=kb)
    async with telegram_polling(telegram_api, bot):
        telegram_api.queue_updates(load_update("text_private", update_id=7150))
        welcome, answer = await telegram_api.wait_for("sendMessage", 2, timeout=15)
    assert answer.text.startswith(ANSWER_TELEGRAM)
    texts = [c.text for c in telegram_api.sent("sendMessage")]
    assert texts == [welcome.text, answer.text]
    assert len(set(texts)) == 2


@pytest.mark.parametrize("fault", ["timeout", "429 beyond the wait"])
async def test_telegram_reply_after_a_transient_failure_is_logged_not_repeated(
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    # A time-out may hide a delivered message, and a long flood wait outlasts the conversation:
    # those replies are logged, never sent twice.
    caplog.set_level(logging.WARNING)
    if fault == "429 beyond the wait":
        telegram_api.fail("sendMessage", 429, retry_after=120)  # replies wait up to 60 s
    else:
        telegram_api.fail("sendMessage", 500, delay=6.0)  # past PTB's 5 s read timeout
    store = MemoryStore()
    bot = build_bot(Settings.from_env({}), store=store, clock=clock, kb=kb)
    async with telegram_polling(telegram_api, bot):
        telegram_api.queue_updates(load_update("text_private", update_id=7100))
        [answer] = await telegram_api.wait_for("sendMessage", 1, timeout=15)
    assert answer.params["chat_id"] == CAMILLE
    assert answer.text.startswith(ANSWER_TELEGRAM)
    assert [c.text for c in telegram_api.sent("sendMessage")] == [answer.text]
    assert len(logged(caplog, "bot.adapters.telegram", "delivering a welcome reply failed")) == 1
    user = store.get_user(UserKey("telegram", "", str(CAMILLE)))
    assert user is not None
    assert user.welcomed


# ==================================================================================== reminders
def _by_id(store: Store) -> dict[int, Reminder]:
    return {r.id: r for r in store.list_reminders(None, status=None)}


async def test_reminders_survive_429_500_timeouts_and_resets_exactly_once(
    sql_store: SqlStore,
    slack_api: FakeSlackApi,
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
) -> None:
    bot = build_bot(Settings.from_env({}), store=sql_store, clock=clock, kb=kb)
    slack = SlackPlatform.from_env(
        {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api.api_url}, bot
    )
    slack.slack_sender.client.timeout = 1  # 10 s in production; the fault is the same, the test faster
    telegram = TelegramPlatform(TelegramConfig.from_env(telegram_env(telegram_api)), bot)
    due = T0 - dt.timedelta(minutes=10)
    slack_ids = [
        sql_store.add_reminder(UserKey("slack", TEAM, f"U10{i}"), f"DU10{i}", 2, due + dt.timedelta(seconds=i)).id
        for i in range(5)
    ]
    telegram_ids = [
        sql_store.add_reminder(UserKey("telegram", "", f"90{i}"), f"90{i}", 3, due + dt.timedelta(seconds=10 + i)).id
        for i in range(5)
    ]
    # Faults are served to the sends in due order: one reminder each, the last one unharmed.
    slack_api.fail("chat.postMessage", status=429, retry_after=120)  # beyond the 10 s the sender waits
    slack_api.fail("chat.postMessage", status=500)
    slack_api.fail("chat.postMessage", delay=2)  # timeout
    slack_api.fail("chat.postMessage", reset=True, times=2)  # the client's one retry is reset too
    slack_api.fail("chat.postMessage", reset=True)  # retried by the client: delivered at the first attempt
    telegram_api.fail("sendMessage", 429, retry_after=30)  # beyond the 10 s the sender waits
    telegram_api.fail("sendMessage", 500)
    telegram_api.reset("sendMessage")
    telegram_api.fail("sendMessage", 500, delay=6.0)  # past PTB's 5 s read timeout
    runner = ReminderRunner(
        sql_store,
        {"slack": slack.sender, "telegram": telegram.sender},
        bot.compose,
        clock,
        worker_id="faults",
        rng=random.Random(3),
    )
    try:
        first = await runner.run_once()
        # The Telegram sender retries a 500 or a reset itself, so the second reminder met the 500, then
        # the reset, then the time-out (not retried: the message may have gone through) in one attempt.
        assert (first.claimed, first.sent, first.retried) == (10, 4, 6)
        rows = _by_id(sql_store)
        waiting = (*slack_ids[:4], telegram_ids[0], telegram_ids[1])
        assert {rows[i].status for i in waiting} == {"pending"}
        assert all(rows[i].lease_until is None for i in waiting)
        assert {rows[i].status for i in telegram_ids[2:]} == {"sent"}
        errors = [rows[i].last_error or "" for i in waiting]
        assert errors[:4] == [
            "slack: ratelimited",
            "slack: internal_error",
            "slack: TimeoutError",
            "slack: ClientOSError",
        ]
        assert errors[4].startswith("Telegram flood control: retry after 30 s")
        assert errors[5].split(":")[1].strip() == "TimedOut"

        clock.advance(seconds=35)  # past the backoff (at most 30 s) and Telegram's retry_after, not Slack's 120 s
        second = await runner.run_once()
        assert (second.claimed, second.sent) == (5, 5)
        assert _by_id(sql_store)[slack_ids[0]].status == "pending"
        clock.advance(seconds=90)
        third = await runner.run_once()
        assert (third.claimed, third.sent) == (1, 1)
        clock.advance(hours=2)
        assert (await runner.run_once()).claimed == 0
    finally:
        await telegram.stop()

    rows = _by_id(sql_store)
    assert {r.status for r in rows.values()} == {"sent"}
    assert [rows[i].attempts for i in slack_ids] == [2, 2, 2, 2, 1]
    assert [rows[i].attempts for i in telegram_ids] == [2, 2, 1, 1, 1]
    assert all(r.lease_until is None and r.sent_at is not None for r in rows.values())
    # Exactly one message reached each user, whatever failed on the way.
    slack_sent = [c.params["channel"] for c in slack_api.calls_to("chat.postMessage", ok=True)]
    assert sorted(slack_sent) == [f"DU10{i}" for i in range(5)]
    telegram_sent = [c.params["chat_id"] for c in telegram_api.sent("sendMessage")]
    assert sorted(telegram_sent) == [900 + i for i in range(5)]
    assert all("Rappel" in c.text for c in telegram_api.sent("sendMessage"))


async def test_permanent_failures_mark_the_reminder_failed_and_pause_the_user(
    sql_store: SqlStore,
    slack_api: FakeSlackApi,
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
) -> None:
    bot = build_bot(Settings.from_env({}), store=sql_store, clock=clock, kb=kb)
    slack = SlackPlatform.from_env(
        {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api.api_url}, bot
    )
    telegram = TelegramPlatform(TelegramConfig.from_env(telegram_env(telegram_api)), bot)
    gone, blocked = UserKey("slack", TEAM, "U0GONE"), UserKey("telegram", "", "777")
    fine_slack, fine_telegram = UserKey("slack", TEAM, "U0FINE"), UserKey("telegram", "", "888")
    due = T0 - dt.timedelta(minutes=5)
    gone_ids = [sql_store.add_reminder(gone, "DU0GONE", step, due).id for step in (1, 2)]
    later = sql_store.add_reminder(gone, "DU0GONE", 3, T0 + dt.timedelta(hours=1)).id
    blocked_ids = [sql_store.add_reminder(blocked, "777", step, due).id for step in (1, 2)]
    fine_ids = [
        sql_store.add_reminder(k, c, 1, due + dt.timedelta(seconds=1)).id
        for k, c in ((fine_slack, "D1"), (fine_telegram, "888"))
    ]
    slack_api.fail("chat.postMessage", error="channel_not_found")
    telegram_api.fail("sendMessage", 403)
    runner = ReminderRunner(
        sql_store, {"slack": slack.sender, "telegram": telegram.sender}, bot.compose, clock, worker_id="perm"
    )
    try:
        stats = await runner.run_once()
        assert (stats.sent, stats.failed, stats.released) == (2, 2, 2)
        clock.advance(hours=3)
        assert (await runner.run_once()).claimed == 0  # the paused users' reminders are not claimed
    finally:
        await telegram.stop()

    rows = _by_id(sql_store)
    assert (rows[gone_ids[0]].status, rows[gone_ids[0]].last_error) == ("failed", "slack: channel_not_found")
    assert rows[blocked_ids[0]].status == "failed"
    assert "blocked" in (rows[blocked_ids[0]].last_error or "")
    for rid in (gone_ids[1], later, blocked_ids[1]):
        assert (rows[rid].status, rows[rid].lease_until) == ("pending", None)
    assert {rows[i].status for i in fine_ids} == {"sent"}
    for key in (gone, blocked):
        user = sql_store.get_user(key)
        assert user is not None
        assert user.reminders_enabled is False
    for key in (fine_slack, fine_telegram):
        user = sql_store.get_user(key)
        assert user is not None
        assert user.reminders_enabled is True
    # One attempt each for the gone users, nothing more; the others got their message.
    assert [c.ok for c in slack_api.calls_to("chat.postMessage") if c.params["channel"] == "DU0GONE"] == [False]
    assert [c.params["channel"] for c in slack_api.calls_to("chat.postMessage", ok=True)] == ["DU0FINE"]
    assert [c.status for c in telegram_api.calls if c.method == "sendMessage" and c.params["chat_id"] == 777] == [403]
    assert [c.params["chat_id"] for c in telegram_api.sent("sendMessage")] == [888]


# ============================================================================ database outage
class Outage:
    """A SqlStore whose database can be switched off: every call then raises as the driver does."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise OperationalError(name, {}, ConnectionRefusedError(111, "Connection refused"))
            return attr(*args, **kwargs)

        return call


class Proxy:
    """A TCP forwarder on 127.0.0.1 to the database server; ``cut`` is a network outage, ``restore`` its end.

    Cutting closes the listening socket (new connections are refused) and resets every open
    connection, so the pool's connections die as they would with the server gone.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._links: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            links, self._links = self._links, set()
        for sock in links:
            _close(sock, reset=True)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._links |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass  # the link was cut
        with self._lock:
            mine = [s for s in (src, dst) if s in self._links]
            self._links -= set(mine)
        for sock in mine:
            _close(sock, reset=False)


def _close(sock: socket.socket, *, reset: bool) -> None:
    # Wakes the pump thread blocked in recv() on this socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@dataclass
class Database:
    """A store and the switch of its database."""

    store: Store
    down: Callable[[], None]
    up: Callable[[], None]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """SQLite behind a store that raises the driver's error while down; PostgreSQL behind a cut TCP link."""
    if request.param == "sqlite":
        outage = Outage(open_store(request.getfixturevalue("sqlite_url")))

        def down() -> None:
            outage.down = True

        def up() -> None:
            outage.down = False

        yield Database(outage, down, up)  # type: ignore[arg-type]
        outage.store.close()
        return
    url = make_url(request.getfixturevalue("pg_schema_url"))
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.restore()
    store = open_store(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    yield Database(store, proxy.cut, proxy.restore)
    store.close()
    proxy.cut()


async def _health(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
        return response.status


async def test_slack_user_gets_an_apology_in_french_while_the_database_is_down(
    database: Database, slack_api: FakeSlackApi, kb: KnowledgeBase, clock: FakeClock
) -> None:
    async with slack_served(slack_api, database.store, kb, clock) as served:
        database.down()
        await served.say(QUESTION, "EvDown1")
        await served.settle()
        assert await _health(served.url) == 200
    assert slack_posts(slack_api) == [APOLOGY_FR]


async def test_slack_answers_normally_once_the_database_is_back(
    database: Database, slack_api: FakeSlackApi, kb: KnowledgeBase, clock: FakeClock
) -> None:
    async with slack_served(slack_api, database.store, kb, clock) as served:
        database.down()
        await served.say("étapes", "EvDown2")
        await served.settle()
        assert await _health(served.url) == 200  # the server is still up
        database.up()
        await served.say(QUESTION, "EvUp2")
        await served.settle()
    posts = slack_posts(slack_api)
    assert ANSWER_SLACK in posts[-1]
    assert not [p for p in posts if "Les cinq étapes" in p]  # the question asked during the outage is not answered late
    assert sum(ANSWER_SLACK in p for p in posts) == 1
    user = database.store.get_user(UserKey("slack", TEAM, USER))
    assert user is not None
    assert (user.welcomed, user.locale_hint) == (True, "fr-FR")
    # Its key is kept in the inbox: a redelivery would not be handled again.
    assert database.store.inbox_add([InboxItem("slack", "EvUp2", "", "{}")], clock.now()) == [False]


async def test_telegram_user_gets_an_apology_in_french_while_the_database_is_down(
    database: Database,
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    bot = build_bot(Settings.from_env({}), store=database.store, clock=clock, kb=kb)
    async with telegram_polling(telegram_api, bot):
        database.down()
        telegram_api.queue_updates(load_update("text_private", update_id=7200))
        # Done once something was sent, or the update's handling failed.
        await eventually(
            lambda: telegram_api.sent("sendMessage") or logged(caplog, "bot.adapters.telegram", "update 7200 failed")
        )
    assert [c.text for c in telegram_api.sent("sendMessage")] == [APOLOGY_FR]


async def test_telegram_answers_normally_once_the_database_is_back(
    database: Database,
    telegram_api: FakeTelegramAPI,
    kb: KnowledgeBase,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    bot = build_bot(Settings.from_env({}), store=database.store, clock=clock, kb=kb)
    async with telegram_polling(telegram_api, bot) as platform:
        database.down()
        telegram_api.queue_updates(load_update("hoc_plan", update_id=7300))
        await eventually(
            lambda: telegram_api.sent("sendMessage") or logged(caplog, "bot.adapters.telegram", "update 7300 failed")
        )
        database.up()
        telegram_api.queue_updates(load_update("text_private", update_id=7301))
        assert await eventually(
            lambda: any(c.text.startswith(ANSWER_TELEGRAM) for c in telegram_api.sent("sendMessage"))
        )
        assert platform.polling  # still polling
    texts = [c.text for c in telegram_api.sent("sendMessage")]
    assert sum(t.startswith(ANSWER_TELEGRAM) for t in texts) == 1
    assert not [t for t in texts if "Votre plan" in t]  # the command sent during the outage is not run late
    user = database.store.get_user(UserKey("telegram", "", str(CAMILLE)))
    assert user is not None
    assert user.welcomed


# ========================================================================================= flood
async def test_a_flood_of_signed_dms_is_limited_with_one_notice_and_others_are_served(
    slack_api: FakeSlackApi, kb: KnowledgeBase, clock: FakeClock
) -> None:
    store = MemoryStore()
    async with slack_served(slack_api, store, kb, clock, HOC_RATE_LIMIT="20") as served:
        # The production window is 10 s; a long one keeps the count independent of this machine's speed.
        served.bot.handler.limiter.window = 3600.0
        results = await asyncio.gather(*(served.slack.event(dm("étapes", f"EvFlood{n:03d}")) for n in range(100)))
        assert {status for status, _ in results} == {200}  # every event acknowledged
        await served.settle()
        await served.say("steps", "EvOther", user="U0002")
        await served.settle()
    flooder = slack_posts(slack_api)
    steps = [p for p in flooder if "Les cinq étapes" in p]
    notices = [p for p in flooder if "très vite" in p]
    assert len(steps) == 20
    assert len(notices) == 1
    assert len(flooder) == 1 + 20 + 1  # the welcome, 20 answers, one notice: 79 messages unanswered
    other = slack_posts(slack_api, "DU0002")
    assert "The five steps" in other[-1]
    assert len(slack_api.calls_to("users.info")) == 2  # one profile look-up per user, not per message
    assert store.get_user(UserKey("slack", TEAM, USER)) is not None
    assert store.get_user(UserKey("slack", TEAM, "U0002")) is not None
