"""ReminderRunner against each store, with a recording fake Sender and a fake clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Collection

import pytest

from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Reply
from bot.core.ports import Reminder, Store, UserKey, UserState
from bot.reminders import ReminderRunner, RunStats

T0 = dt.datetime(2025, 12, 1, 8, 0, tzinfo=dt.UTC)
ANN = UserKey("slack", "T1", "U-ann")
BOB = UserKey("telegram", "", "42")


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += dt.timedelta(**kwargs)


class RecordingSender:
    """Records each send; raises the next scripted error instead when there is one."""

    def __init__(self) -> None:
        self.sent: list[tuple[UserKey, str, Reply]] = []
        self.errors: list[Exception] = []
        self.before_send: Callable[[], None] | None = None

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        if self.before_send is not None:
            self.before_send()
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((key, chat, reply))


def compose(r: Reminder) -> Reply:
    return Reply(text=f"reminder {r.id} step {r.step} due {r.due_at:%Y-%m-%d %H:%M}", kind="reminder")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def runner(any_store: Store, slack: RecordingSender, telegram: RecordingSender, clock: FakeClock) -> ReminderRunner:
    return ReminderRunner(
        any_store,
        {"slack": slack, "telegram": telegram},
        compose,
        clock,
        worker_id="w1",
        batch=10,
        rng=random.Random(7),
    )


def one(store: Store, status: str) -> Reminder:
    [r] = store.list_reminders(status=status)
    return r


async def test_due_reminder_is_sent_once_and_marked(
    any_store: Store,
    runner: ReminderRunner,
    slack: RecordingSender,
    telegram: RecordingSender,
    clock: FakeClock,
) -> None:
    r = any_store.add_reminder(ANN, "C-ann", 2, T0)
    any_store.add_reminder(BOB, "chat-bob", 1, T0 + dt.timedelta(hours=1))  # not due yet
    stats = await runner.run_once()
    assert stats == RunStats(claimed=1, sent=1)
    assert [(k, chat, reply.text) for k, chat, reply in slack.sent] == [
        (ANN, "C-ann", f"reminder {r.id} step 2 due 2025-12-01 08:00")
    ]
    assert telegram.sent == []
    sent = one(any_store, "sent")
    assert (sent.id, sent.sent_at, sent.attempts) == (r.id, T0, 1)
    assert await runner.run_once() == RunStats()
    clock.advance(hours=1)
    assert (await runner.run_once()).sent == 1
    assert telegram.sent[0][1] == "chat-bob"
    assert len(slack.sent) == 1


async def test_transient_error_honours_retry_after(
    any_store: Store, runner: ReminderRunner, slack: RecordingSender, clock: FakeClock
) -> None:
    r = any_store.add_reminder(ANN, "C", 1, T0)
    slack.errors.append(TransientSendError("429 Too Many Requests", retry_after=600))
    stats = await runner.run_once()
    assert stats == RunStats(claimed=1, retried=1)
    pending = one(any_store, "pending")
    assert (pending.id, pending.attempts, pending.last_error) == (r.id, 1, "429 Too Many Requests")
    clock.advance(seconds=599)
    assert await runner.run_once() == RunStats()
    clock.advance(seconds=1)
    assert await runner.run_once() == RunStats(claimed=1, sent=1)
    assert len(slack.sent) == 1


def test_retry_delay_is_exponential_with_jitter_and_never_below_retry_after(runner: ReminderRunner) -> None:
    base = runner.backoff
    for attempts in range(1, 8):
        ceiling = min(base * 2 ** (attempts - 1), runner.max_backoff)
        delays = [runner.retry_delay(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert runner.retry_delay(1, retry_after=5000) >= dt.timedelta(seconds=5000)
    assert runner.retry_delay(100) <= runner.max_backoff


async def test_transient_errors_give_up_after_max_attempts(
    any_store: Store, slack: RecordingSender, clock: FakeClock
) -> None:
    runner = ReminderRunner(any_store, {"slack": slack}, compose, clock, worker_id="w", max_attempts=3)
    any_store.add_reminder(ANN, "C", 1, T0)
    slack.errors.extend(TransientSendError("503") for _ in range(5))
    outcomes = []
    for _ in range(3):
        outcomes.append(await runner.run_once())
        clock.advance(hours=2)
    assert [s.retried for s in outcomes] == [1, 1, 0]
    assert outcomes[-1].failed == 1
    failed = one(any_store, "failed")
    assert failed.attempts == 3
    assert failed.last_error is not None
    assert failed.last_error.startswith("gave up after 3 attempts: 503")
    assert slack.sent == []


async def test_permanent_error_pauses_the_user(
    any_store: Store,
    runner: ReminderRunner,
    slack: RecordingSender,
    telegram: RecordingSender,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    any_store.save_user(UserState(key=ANN, chat="C"))
    first = any_store.add_reminder(ANN, "C", 1, T0)
    second = any_store.add_reminder(ANN, "C", 2, T0)  # same batch
    later = any_store.add_reminder(ANN, "C", 3, T0 + dt.timedelta(hours=3))
    any_store.add_reminder(BOB, "B", 1, T0)
    slack.errors.append(PermanentSendError("account_inactive"))
    with caplog.at_level(logging.WARNING, logger="bot.reminders.runner"):
        stats = await runner.run_once()
    assert stats == RunStats(claimed=3, sent=1, failed=1, released=1)
    assert len(telegram.sent) == 1
    assert slack.sent == []
    failed = one(any_store, "failed")
    assert (failed.id, failed.last_error) == (first.id, "account_inactive")
    user = any_store.get_user(ANN)
    assert user is not None
    assert user.reminders_enabled is False
    assert len([rec for rec in caplog.records if "paused" in rec.getMessage()]) == 1
    # Later reminders stay pending but are not claimed while the user is paused.
    clock.advance(hours=4)
    assert await runner.run_once() == RunStats()
    assert {r.id for r in any_store.list_reminders(ANN)} == {second.id, later.id}
    any_store.set_reminders_enabled(ANN, True)
    assert (await runner.run_once()).sent == 2


async def test_overdue_within_limit_is_sent_once_with_its_original_date(
    any_store: Store, slack: RecordingSender, clock: FakeClock
) -> None:
    seen: list[Reminder] = []

    def remember(r: Reminder) -> Reply:
        seen.append(r)
        return compose(r)

    runner = ReminderRunner(any_store, {"slack": slack}, remember, clock, worker_id="w")
    due = T0 - dt.timedelta(hours=30)
    any_store.add_reminder(ANN, "C", 4, due)
    assert (await runner.run_once()).sent == 1
    assert [r.due_at for r in seen] == [due]
    assert "2025-11-30 02:00" in slack.sent[0][2].text
    clock.advance(minutes=10)
    assert await runner.run_once() == RunStats()
    assert len(slack.sent) == 1


async def test_too_old_is_dropped_not_sent(any_store: Store, slack: RecordingSender, clock: FakeClock) -> None:
    dropped: list[Reminder] = []
    runner = ReminderRunner(
        any_store,
        {"slack": slack},
        compose,
        clock,
        worker_id="w",
        max_late=dt.timedelta(hours=36),
        on_drop=dropped.append,
    )
    r = any_store.add_reminder(ANN, "C", 1, T0 - dt.timedelta(hours=36, seconds=1))
    assert await runner.run_once() == RunStats(claimed=1, dropped=1)
    assert slack.sent == []
    assert [d.id for d in dropped] == [r.id]
    gone = one(any_store, "dropped")
    assert gone.last_error is not None
    assert "late" in gone.last_error


async def test_platform_without_sender_is_left_for_a_worker_that_has_one(
    any_store: Store, runner: ReminderRunner
) -> None:
    reminder = any_store.add_reminder(UserKey("matrix", "", "@x:y"), "!room", 1, T0)
    stats = await runner.run_once()
    assert stats.claimed == 0
    assert stats.failed == 0
    [still] = any_store.list_reminders(None, status="pending")
    assert still.id == reminder.id
    assert still.attempts == 0


async def test_compose_error_fails_the_reminder_not_the_worker(
    any_store: Store, slack: RecordingSender, clock: FakeClock
) -> None:
    def broken(r: Reminder) -> Reply:
        raise KeyError("missing translation")

    runner = ReminderRunner(any_store, {"slack": slack}, broken, clock, worker_id="w")
    any_store.add_reminder(ANN, "C", 1, T0)
    assert (await runner.run_once()).failed == 1
    assert "compose failed" in (one(any_store, "failed").last_error or "")


async def test_stop_finishes_the_send_in_flight_and_releases_the_rest(
    any_store: Store, runner: ReminderRunner, slack: RecordingSender, clock: FakeClock
) -> None:
    ids = [any_store.add_reminder(ANN, "C", i, T0).id for i in range(1, 6)]
    stop = asyncio.Event()
    slack.before_send = stop.set  # the stop arrives while the first send is under way
    stats = await runner.run_forever(stop, interval=0.01)
    assert stats == RunStats(claimed=5, sent=1, released=4)
    assert one(any_store, "sent").id == ids[0]
    # Released claims are free at once for another worker.
    other = any_store.claim_due(clock.now(), limit=10, lease=dt.timedelta(minutes=5), worker="w2")
    assert [r.id for r in other] == ids[1:]


async def test_cancelled_worker_gives_its_claims_back(any_store: Store, clock: FakeClock) -> None:
    class Hanging:
        def __init__(self) -> None:
            self.started = asyncio.Event()

        async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
            self.started.set()
            await asyncio.Event().wait()

    sender = Hanging()
    runner = ReminderRunner(any_store, {"slack": sender}, compose, clock, worker_id="w")
    for i in range(3):
        any_store.add_reminder(ANN, "C", i, T0)
    task = asyncio.create_task(runner.run_once())
    await sender.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(any_store.claim_due(clock.now(), limit=10, lease=dt.timedelta(minutes=5), worker="w2")) == 3


async def test_run_forever_keeps_going_after_a_store_error(
    any_store: Store, slack: RecordingSender, clock: FakeClock
) -> None:
    class Flaky:
        """Fails the first claim, then behaves like the wrapped store."""

        def __init__(self, inner: Store) -> None:
            self.inner = inner
            self.failures = 1

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def claim_due(
            self,
            now: dt.datetime,
            *,
            limit: int,
            lease: dt.timedelta,
            worker: str,
            platforms: Collection[str] | None = None,
        ) -> list[Reminder]:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("database restarting")
            return self.inner.claim_due(now, limit=limit, lease=lease, worker=worker, platforms=platforms)

    stop = asyncio.Event()
    any_store.add_reminder(ANN, "C", 1, T0)

    def stop_after_send() -> None:
        stop.set()

    slack.before_send = stop_after_send
    runner = ReminderRunner(Flaky(any_store), {"slack": slack}, compose, clock, worker_id="w")  # type: ignore[arg-type]
    stats = await asyncio.wait_for(runner.run_forever(stop, interval=0.001), timeout=10)
    assert stats.sent == 1
    assert len(slack.sent) == 1


async def test_a_batch_that_outlasts_its_lease_gives_the_rest_back(
    any_store: Store, slack: RecordingSender, clock: FakeClock
) -> None:
    lease = dt.timedelta(minutes=5)
    runner = ReminderRunner(any_store, {"slack": slack}, compose, clock, worker_id="slow", lease=lease)
    for i in range(6):
        any_store.add_reminder(ANN, "C", i, T0)
    slack.before_send = lambda: clock.advance(minutes=2)  # a slow platform
    stats = await runner.run_once()
    # Sends start at +0, +2 and +4 min; at +6 min the lease (until +5 min) is over: stop there.
    assert stats.sent == 3
    assert stats.released == 3
    assert len(any_store.claim_due(clock.now(), limit=10, lease=lease, worker="other")) == 3
