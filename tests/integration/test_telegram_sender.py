"""Telegram delivery: the reminder Sender, flood control, error classification and the rate limiter."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram import NETWORK_RETRIES, RateLimiter, TelegramConfig, TelegramPlatform, TelegramSender
from bot.app import Bot, build_bot
from bot.config import Settings
from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.ports import UserKey
from bot.reminders.runner import ReminderRunner
from bot.store.memory import MemoryStore
from tests.auxil.fake_telegram_api import FakeTelegramAPI, load_update, telegram_env
from tests.auxil.harness import FakeClock

CAMILLE = UserKey("telegram", "", "424242")
NOTE = Reply("Rappel : étape 2 <bientôt> & à temps", buttons=(Button("done:2", "Fait"),), lang="fr")


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def bot(clock: FakeClock) -> Bot:
    return build_bot(Settings.from_env({"HOC_EVENT_DATE": "2026-12-07"}), store=MemoryStore(), clock=clock)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def platform(api: FakeTelegramAPI, bot: Bot) -> AsyncIterator[TelegramPlatform]:
    """The platform as ``hoc-bot worker`` has it: built, never started; its sender connects on demand."""
    unstarted = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot)
    yield unstarted
    await unstarted.stop()


async def test_a_due_reminder_is_delivered_in_the_users_language_and_date_format(
    api: FakeTelegramAPI, platform: TelegramPlatform, bot: Bot, clock: FakeClock
) -> None:
    store = bot.handler.store
    bot.handler.handle(IncomingMessage("telegram", "424242", "/hoc plan", chat="424242", locale_hint="fr"))
    store.add_reminder(CAMILLE, "424242", 2, dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC))
    clock.advance(days=1, hours=1)  # an hour late: the message says when it was due
    runner = ReminderRunner(store, {"telegram": platform.sender}, bot.compose, clock, worker_id="t1")
    stats = await runner.run_once()
    assert stats.sent == 1
    (sent,) = api.sent("sendMessage")
    assert sent.params["chat_id"] == 424242
    assert sent.params["parse_mode"] == "HTML"
    assert sent.text.startswith("Rappel\u00a0: étape 2, Fournir un exemple de plan logistique")
    assert "mardi 3 novembre 2026 à 09:00" in sent.text  # Paris time, French date
    assert '• <a href="https://hourofcode.com/files/HOC_Logistics_plan.pdf">exemplaire' in sent.text
    assert sent.callback_data == ["done:2", "plan"]
    assert store.list_reminders(CAMILLE, status="sent")


async def test_a_blocked_bot_fails_permanently_and_pauses_the_users_reminders(
    api: FakeTelegramAPI, platform: TelegramPlatform, bot: Bot, clock: FakeClock
) -> None:
    store = bot.handler.store
    bot.handler.handle(IncomingMessage("telegram", "424242", "/hoc plan", chat="424242", locale_hint="fr"))
    store.add_reminder(CAMILLE, "424242", 2, clock.now())
    api.fail("sendMessage", 403)
    runner = ReminderRunner(store, {"telegram": platform.sender}, bot.compose, clock, worker_id="t1")
    stats = await runner.run_once()
    assert stats.failed == 1
    user = store.get_user(CAMILLE)
    assert user is not None
    assert user.reminders_enabled is False


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (403, None, PermanentSendError),
        (403, "Forbidden: user is deactivated", PermanentSendError),
        (400, None, PermanentSendError),  # chat not found
        (400, "Bad Request: message text is empty", TransientSendError),  # ours to fix: keep the user's reminders
        (500, None, TransientSendError),
        (502, "Bad Gateway", TransientSendError),
        (401, "Unauthorized", TransientSendError),
    ],
)
async def test_errors_are_classified(
    api: FakeTelegramAPI,
    platform: TelegramPlatform,
    status: int,
    description: str | None,
    error: type[Exception],
) -> None:
    # Network errors and 5xx are retried NETWORK_RETRIES times inside the outbox before they surface.
    times = NETWORK_RETRIES + 1 if status >= 500 else 1
    api.fail("sendMessage", status, description=description, times=times)
    with pytest.raises(error):
        await platform.sender.send(CAMILLE, "424242", NOTE)


async def test_one_server_error_is_retried_and_the_reminder_sent_once(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    api.fail("sendMessage", 502, description="Bad Gateway")
    await platform.sender.send(CAMILLE, "424242", NOTE)
    statuses = [c.status for c in api.calls if c.method == "sendMessage"]
    assert statuses == [502, 200]


async def test_flood_control_is_waited_out_then_the_reminder_is_sent(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    api.fail("sendMessage", 429, retry_after=2)
    await platform.sender.send(CAMILLE, "424242", NOTE)
    refused, delivered = [c for c in api.calls if c.method == "sendMessage"]
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.at - refused.at >= 2.0
    assert delivered.text == "Rappel : étape 2 &lt;bientôt&gt; &amp; à temps"


async def test_a_long_flood_wait_is_handed_back_to_the_runner(api: FakeTelegramAPI, bot: Bot) -> None:
    platform = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, sender_max_wait=5)
    try:
        api.fail("sendMessage", 429, retry_after=30)
        with pytest.raises(TransientSendError) as caught:
            await platform.sender.send(CAMILLE, "424242", NOTE)
        assert caught.value.retry_after == 30
        assert len([c for c in api.calls if c.method == "sendMessage"]) == 1  # no wait, no retry
    finally:
        await platform.stop()


async def test_a_migrated_group_gets_the_message_at_its_new_id(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    api.fail("sendMessage", 400, description="Bad Request: group chat was upgraded", migrate_to=-1009999)
    await platform.sender.send(CAMILLE, "-4242", NOTE)
    (sent,) = api.sent("sendMessage")
    assert sent.params["chat_id"] == -1009999


async def test_flood_control_during_a_conversation_delays_the_answer(api: FakeTelegramAPI, bot: Bot) -> None:
    polling = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, poll_timeout=1)
    await polling.start()
    try:
        api.fail("sendMessage", 429, retry_after=2)
        api.queue_updates(load_update("text_private"))
        await api.wait_for("sendMessage", 2)
    finally:
        await polling.stop()
    attempts = [c for c in api.calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [429, 200, 200]
    assert attempts[1].at - attempts[0].at >= 2.0
    assert attempts[0].text == attempts[1].text  # the same message, sent after the wait


async def test_sends_share_one_rate_limit(api: FakeTelegramAPI, bot: Bot) -> None:
    platform = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, limiter=RateLimiter(rate=20))
    sender = platform.sender
    assert isinstance(sender, TelegramSender)
    try:
        for n in range(11):
            await sender.send(CAMILLE, "424242", Reply(f"message {n}"))
    finally:
        await platform.stop()
    sent = api.sent("sendMessage")
    assert len(sent) == 11
    assert sent[-1].at - sent[0].at >= 10 / 20 - 0.01  # 10 intervals of 1/20 s


class VirtualTime:
    """A clock and a sleep that only move virtual time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_rate_limiter_never_exceeds_its_rate_in_any_second() -> None:
    time = VirtualTime()
    limiter = RateLimiter(rate=30, burst=1, clock=time.clock, sleep=time.sleep)
    stamps = []
    for _ in range(95):
        await limiter.acquire()
        stamps.append(time.now)
    assert stamps[0] == 100.0  # the first one goes at once
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 1.0 - 1e-9]
        assert len(in_window) <= 30
    assert stamps[-1] - stamps[0] == pytest.approx(94 / 30)


async def test_rate_limiter_allows_a_burst_then_spaces_calls() -> None:
    time = VirtualTime()
    limiter = RateLimiter(rate=10, burst=3, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        await limiter.acquire()
    assert time.slept == []
    await limiter.acquire()
    assert time.slept == [pytest.approx(0.1)]
    time.now += 60  # idle: the bucket refills
    time.slept.clear()
    for _ in range(3):
        await limiter.acquire()
    assert time.slept == []
