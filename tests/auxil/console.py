"""The /admin console for tests: a bot on a SQL store with a fake clock, its console app, seeded figures."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Mapping

from aiohttp import web

from bot.admin.web import Console, build_console, mount
from bot.app import Bot, build_bot, knowledge_dir
from bot.config import Settings
from bot.core.messages import IncomingMessage
from bot.core.ports import UserKey, UserState
from bot.store.sql import SqlStore
from tests.auxil.harness import FakeClock

#: The admin every console test signs in as (console platform, user "boss").
ADMIN_ENV = {"HOC_ADMINS": "console:boss", "HOC_PUBLIC_URL": "https://bot.example.org"}
#: A coordinator id that must never appear on a page.
SECRET_USER = "coord-SECRET-4242"
TOKEN = re.compile(r"/admin/signin\?token=([A-Za-z0-9_\-]+)")


class ConsoleBot:
    """A bot with its console, on ``store``, at the fake clock's time.

    The review page edits the knowledge directory of ``HOC_KNOWLEDGE_DIR`` in ``env`` (tests that apply
    a review give a copy in tmp_path) and reloads this very bot.
    """

    def __init__(self, store: SqlStore, env: Mapping[str, str] | None = None, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
        self.env = {**ADMIN_ENV, **(env or {})}
        self.store = store
        self.bot: Bot = build_bot(Settings.from_env(self.env), store=store, clock=self.clock)
        console = build_console(
            store,
            self.bot.catalogs,
            self.env,
            self.clock.now,
            kb_dir=knowledge_dir(self.bot.settings),
            reload=self.bot.reload,
        )
        assert console is not None
        self.console: Console = console

    def app(self) -> web.Application:
        app = web.Application()
        mount(app, self.console)
        return app

    def chat(self, text: str, user: str = "boss", lang: str | None = "en") -> str:
        """What the bot answers ``user`` in the console chat."""
        replies = self.bot.handler.handle(IncomingMessage("console", user, text, chat=user, locale_hint=lang))
        return "\n".join(r.text for r in replies)

    def link(self, user: str = "boss") -> tuple[str, str]:
        """A sign-in link from the real ``admin`` chat command: (path and query, token)."""
        answer = self.chat("admin", user)
        found = TOKEN.search(answer)
        assert found, answer
        return found.group(0), found.group(1)


def seed(store: SqlStore, today: dt.date) -> None:
    """A small known population: 3 Slack (fr, fr-CA, en) and 2 Telegram (fr, ar) coordinators.

    Steps: slack fr 1,2,3,4,5; slack fr-CA 1,2; slack en none; telegram fr 1; telegram ar 1,2,3.
    Events: two on the Monday 3 weeks ahead, one 2 weeks ago, two without a date. Reminders: 3 sent,
    1 failed, 2 pending; one coordinator paused. Questions: 4 answered and 2 not, today.
    """
    now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    monday = today - dt.timedelta(days=today.weekday())
    people = [
        ("slack", "T1", SECRET_USER, "fr", (1, 2, 3, 4, 5), monday + dt.timedelta(weeks=3), True),
        ("slack", "T1", "U2", "fr-CA", (1, 2), monday + dt.timedelta(weeks=3, days=2), True),
        ("slack", "T1", "U3", "en", (), None, False),
        ("telegram", "", "42", "fr", (1,), monday - dt.timedelta(weeks=2), True),
        ("telegram", "", "43", "ar", (1, 2, 3), None, True),
    ]
    for platform, workspace, user, locale, done, event, enabled in people:
        key = UserKey(platform, workspace, user)
        store.save_user(
            UserState(
                key,
                chat=user,
                locale_hint=locale,
                event_date=event,
                steps_done=dict.fromkeys(done, now),
                reminders_enabled=enabled,
                welcomed=True,
                created_at=now,
            )
        )
    sent = [
        store.add_reminder(UserKey("slack", "T1", SECRET_USER), SECRET_USER, 1, now),
        store.add_reminder(UserKey("slack", "T1", "U2"), "U2", 2, now),
        store.add_reminder(UserKey("telegram", "", "42"), "42", 2, now),
    ]
    for reminder in sent:
        store.mark_sent(reminder.id, now)
    failed = store.add_reminder(UserKey("telegram", "", "43"), "43", 4, now)
    store.mark_failed(failed.id, "blocked")
    store.add_reminder(UserKey("slack", "T1", "U3"), "U3", 1, now + dt.timedelta(days=3))
    store.add_reminder(UserKey("telegram", "", "42"), "42", 3, now + dt.timedelta(days=3))
    for n in range(6):
        decision = "answer" if n < 4 else "fallback"
        store.log_question("slack" if n % 2 else "telegram", decision, None, None if n < 4 else f"q {n}", now)


class ServedConsole:
    """The console app served on 127.0.0.1 from a thread of its own (for a real browser)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServedConsole:
        self._thread.start()
        assert self._started.wait(10), "the console did not start"
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
