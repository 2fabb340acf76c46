"""Reminders typed in the console come back through the console sender, in the user's language."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from bot.adapters.console import ConsoleChat, ConsoleSender
from bot.app import Bot, build_bot
from bot.config import Settings
from bot.core.messages import IncomingMessage
from bot.core.ports import Reminder, UserKey
from bot.reminders.runner import ReminderRunner
from bot.store.memory import MemoryStore
from tests.auxil.harness import FakeClock

# Monday 2 November 2026, 09:00 in Paris: "demain 9h" is Tuesday 3 November, 09:00 Paris = 08:00 UTC.
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)
FR = UserKey("console", "", "camille")
EN = UserKey("console", "", "alex")
SLACK = UserKey("slack", "T1", "U1")


class World:
    """The bot, its store and clock, a console sender writing to a buffer, and a console-only runner."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = FakeClock(START)
        self.bot: Bot = build_bot(
            Settings.from_env({"HOC_EVENT_DATE": "2026-12-07"}), store=self.store, clock=self.clock
        )
        self.out = io.StringIO()
        self.sender = ConsoleSender(self.out)
        self.runner = ReminderRunner(self.store, {"console": self.sender}, self.bot.compose, self.clock, worker_id="t")
        self.chats: dict[str, ConsoleChat] = {}

    def say(self, user: str, text: str, locale: str | None = "fr") -> str:
        chat = self.chats.setdefault(user, ConsoleChat(self.bot.handler.handle, user=user, locale=locale))
        return chat.render(chat.send(text))

    def pending(self, key: UserKey) -> list[Reminder]:
        return self.store.list_reminders(key, status="pending")

    def step_title(self, lang: str, step: int) -> str:
        entry = self.bot.handler.kb.step(step)
        assert entry is not None
        return entry.content[lang].title

    def step_urls(self, lang: str, step: int) -> list[str]:
        entry = self.bot.handler.kb.step(step)
        assert entry is not None
        return [link.url for link in self.bot.handler.links_for(entry.content[lang], lang)]


@pytest.fixture
def world() -> World:
    return World()


async def test_french_reminder_is_printed_once_with_step_title_and_links(world: World) -> None:
    confirmation = world.say("camille", "remind demain 9h step 2")
    assert "Rappel n°" in confirmation
    assert "3 novembre 2026" in confirmation
    [reminder] = world.pending(FR)
    assert (reminder.step, reminder.due_at, reminder.kind) == (2, DUE, "manual")

    world.clock.current = DUE - dt.timedelta(minutes=1)
    early = await world.runner.run_once()
    assert early.claimed == 0
    assert world.out.getvalue() == ""

    world.clock.current = DUE + dt.timedelta(minutes=1)
    stats = await world.runner.run_once()
    assert stats.sent == 1
    printed = world.out.getvalue()
    assert printed.startswith("\n⏰ ")
    assert "Rappel" in printed
    assert world.step_title("fr", 2) in printed
    urls = world.step_urls("fr", 2)
    assert urls
    for url in urls:
        assert url in printed
    assert "Marquer l’étape 2 comme terminée" in printed
    assert "prévu" not in printed  # on time: no mention of the original date
    [(key, reply)] = world.sender.sent
    assert key == FR
    assert (reply.kind, reply.lang, reply.topic) == ("reminder", "fr", "logistics-plan")
    assert world.pending(FR) == []
    [done] = world.store.list_reminders(FR, status="sent")
    assert done.id == reminder.id

    world.clock.advance(hours=1)
    again = await world.runner.run_once()
    assert again.claimed == 0
    assert world.out.getvalue() == printed
    assert len(world.sender.sent) == 1


async def test_reminder_two_hours_late_mentions_its_original_date(world: World) -> None:
    world.say("camille", "remind demain 9h step 2")
    world.clock.current = DUE + dt.timedelta(hours=2)
    stats = await world.runner.run_once()
    assert stats.sent == 1
    printed = world.out.getvalue()
    assert "Rappel" in printed
    assert "prévu" in printed
    assert "3 novembre 2026" in printed
    # Shown in the user's zone (Paris), not in UTC.
    assert "09:00" in printed
    assert "08:00" not in printed


async def test_user_who_chose_english_gets_the_reminder_in_english(world: World) -> None:
    world.say("alex", "lang en")
    confirmation = world.say("alex", "remind demain 9h step 2")
    assert "Reminder n°" in confirmation
    world.clock.current = DUE + dt.timedelta(minutes=5)
    await world.runner.run_once()
    printed = world.out.getvalue()
    assert "Reminder: step 2" in printed
    assert world.step_title("en", 2) in printed
    assert "Rappel" not in printed
    assert world.step_title("fr", 2) not in printed
    [(key, reply)] = world.sender.sent
    assert (key, reply.lang) == (EN, "en")


async def test_each_user_gets_their_own_language(world: World) -> None:
    world.say("camille", "remind demain 9h step 2")
    world.say("alex", "lang en")
    world.say("alex", "remind demain 9h step 2")
    world.clock.current = DUE + dt.timedelta(minutes=5)
    stats = await world.runner.run_once()
    assert stats.sent == 2
    langs = {key.user: reply.lang for key, reply in world.sender.sent}
    assert langs == {"camille": "fr", "alex": "en"}


async def test_slack_reminder_is_left_to_a_runner_with_a_slack_sender(world: World) -> None:
    world.say("camille", "remind demain 9h step 2")
    replies = world.bot.handler.handle(
        IncomingMessage("slack", "U1", "remind demain 9h step 2", workspace="T1", chat="D1", locale_hint="fr")
    )
    assert any(r.kind == "remind" for r in replies)
    [slack_reminder] = world.pending(SLACK)

    world.clock.current = DUE + dt.timedelta(minutes=5)
    stats = await world.runner.run_once()
    assert stats.claimed == 1
    assert [key for key, _ in world.sender.sent] == [FR]
    [still] = world.pending(SLACK)
    assert still.id == slack_reminder.id
    assert still.attempts == 0
    assert still.lease_until is None
    assert world.store.lease_owner(still.id) is None

    world.clock.advance(hours=1)
    await world.runner.run_once()
    assert world.pending(SLACK) == [still]
