"""The durable inbox: events kept before their acknowledgement, handled in order per key, once, after a crash too."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from bot.adapters.inbox import MAX_ATTEMPTS, Inbox, Turn, replies_from_json, replies_to_json
from bot.core.messages import Button, Link, Reply
from bot.core.ports import InboxItem
from bot.store.memory import MemoryStore
from bot.web import AckFirst
from tests.auxil.harness import FakeClock


class Recorder:
    """A platform's handling: records what it handled and what it sent."""

    def __init__(self, *, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.handled: list[str] = []
        self.answered: list[str] = []
        self.sent: list[str] = []
        self.running: dict[str, int] = {}
        self.overlap = 0
        self.delay = delay
        self.fail_on = fail_on

    async def process(self, turn: Turn) -> None:
        data = turn.payload
        order = turn.row.item.order
        self.running[order] = self.running.get(order, 0) + 1
        self.overlap = max(self.overlap, self.running[order])
        try:
            self.handled.append(data["text"])
            if data["text"] == self.fail_on:
                raise RuntimeError("boom")

            async def answer() -> list[Reply]:
                self.answered.append(data["text"])
                return [Reply(f"{data['text']}-1"), Reply(f"{data['text']}-2")]

            replies = await turn.replies(answer)
            await asyncio.sleep(self.delay)

            async def send(reply: Reply) -> None:
                self.sent.append(reply.text)

            await turn.deliver(replies, send)
        finally:
            self.running[order] -= 1


def make_inbox(store: MemoryStore, recorder: Recorder, **kwargs: Any) -> Inbox:
    gate = AckFirst()
    return Inbox("slack", store, recorder.process, clock=FakeClock(), gate=lambda: gate, poll=0.05, **kwargs)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_events_of_one_user_are_handled_one_at_a_time_in_order_others_alongside() -> None:
    store, recorder = MemoryStore(), Recorder(delay=0.01)
    inbox = make_inbox(store, recorder, workers=8)
    await inbox.start()
    puts = [inbox.put(f"Ev{u}{n}", f"T:U{u}", {"text": f"{u}{n}"}) for n in range(5) for u in range(4)]
    assert await asyncio.gather(*puts) == [True] * 20
    assert await inbox.drain(10) == 0
    await inbox.stop(1)
    assert recorder.overlap == 1
    for u in range(4):
        assert [t for t in recorder.handled if t.startswith(str(u))] == [f"{u}{n}" for n in range(5)]
    assert len(recorder.sent) == 40
    assert store.inbox_pending() == 0


async def test_a_key_kept_already_is_not_handled_again() -> None:
    store, recorder = MemoryStore(), Recorder()
    inbox = make_inbox(store, recorder)
    await inbox.start()
    assert await inbox.put("Ev1", "T:U1", {"text": "a"}) is True
    assert await inbox.drain(5) == 0
    assert await inbox.put("Ev1", "T:U1", {"text": "a"}) is False  # a retry, or a replay
    assert await inbox.drain(5) == 0
    await inbox.stop(1)
    assert recorder.handled == ["a"]


async def test_what_a_killed_process_left_is_handled_by_the_next_one_without_asking_the_handler_again() -> None:
    store = MemoryStore()
    now = FakeClock().now()
    # A first process kept three events, claimed two, answered one and sent its first reply, then died.
    store.inbox_add(
        [InboxItem("slack", f"Ev{n}", "T:U1" if n < 2 else "T:U2", f'{{"text": "{n}"}}') for n in range(3)], now
    )
    first, second = store.inbox_claim("slack", "dead", now, dt.timedelta(seconds=30), 10)
    assert (first.item.key, second.item.key) == ("Ev0", "Ev2")  # Ev1 waits for Ev0 (same user)
    store.inbox_answered(first.id, replies_to_json([Reply("0-1"), Reply("0-2")]))
    store.inbox_progress(first.id, 1)

    recorder = Recorder()
    inbox = make_inbox(store, recorder, reset_leases=True)  # SQLite: one process, leases freed at start
    await inbox.start()
    assert await inbox.drain(5) == 0
    await inbox.stop(1)
    assert sorted(recorder.answered) == ["1", "2"]  # event 0 had its answer kept
    assert sorted(recorder.sent) == ["0-2", "1-1", "1-2", "2-1", "2-2"]  # 0-1 was sent by the dead process


async def test_without_reset_a_live_lease_is_respected() -> None:
    store = MemoryStore()
    now = FakeClock().now()
    store.inbox_add([InboxItem("slack", "Ev0", "T:U1", '{"text": "0"}')], now)
    store.inbox_claim("slack", "other-process", now, dt.timedelta(seconds=30), 10)
    recorder = Recorder()
    inbox = make_inbox(store, recorder)  # PostgreSQL: another process may be alive
    await inbox.start()
    assert await inbox.drain(0.3) == 1
    await inbox.stop(1)
    assert recorder.handled == []


async def test_an_event_that_keeps_killing_the_process_is_given_up() -> None:
    store = MemoryStore()
    now = FakeClock().now()
    store.inbox_add([InboxItem("slack", "Ev0", "T:U1", '{"text": "0"}')], now)
    for n in range(MAX_ATTEMPTS):
        store.inbox_claim("slack", f"dead{n}", now, dt.timedelta(seconds=30), 10)
        store.inbox_release("slack", None)
    recorder = Recorder()
    inbox = make_inbox(store, recorder, reset_leases=True)
    await inbox.start()
    assert await inbox.drain(5) == 0
    await inbox.stop(1)
    assert recorder.handled == []


async def test_a_failing_event_is_logged_and_the_next_ones_go_on(caplog: pytest.LogCaptureFixture) -> None:
    store, recorder = MemoryStore(), Recorder(fail_on="b")
    inbox = make_inbox(store, recorder)
    await inbox.start()
    for n, text in enumerate("abc"):
        await inbox.put(f"Ev{n}", "T:U1", {"text": text})
    assert await inbox.drain(5) == 0
    await inbox.stop(1)
    assert recorder.handled == ["a", "b", "c"]
    assert "handling an event failed" in caplog.text


class BrokenStore(MemoryStore):
    def inbox_add(self, items: Any, now: dt.datetime) -> list[bool]:
        raise OSError("database down")


async def test_when_the_database_cannot_keep_an_event_it_is_handled_from_memory() -> None:
    recorder = Recorder()
    inbox = make_inbox(BrokenStore(), recorder)
    await inbox.start()
    assert await inbox.put("Ev1", "T:U1", {"text": "a"}) is True
    assert await eventually(lambda: recorder.sent == ["a-1", "a-2"])
    await inbox.stop(1)


async def test_stop_gives_back_what_is_not_finished_in_time() -> None:
    store, recorder = MemoryStore(), Recorder(delay=5.0)
    inbox = make_inbox(store, recorder)
    await inbox.start()
    await inbox.put("Ev1", "T:U1", {"text": "a"})
    assert await eventually(lambda: recorder.answered == ["a"])
    assert await inbox.stop(0.1) == 1
    # Free for the next start, with its answer kept.
    [row] = store.inbox_claim("slack", "next", FakeClock().now(), dt.timedelta(seconds=30), 10)
    assert row.replies is not None
    assert row.sent == 0


class CountingStore(MemoryStore):
    """Counts the rows of each inbox write: events kept, records of what became of them."""

    def __init__(self) -> None:
        super().__init__()
        self.adds: list[int] = []
        self.records: list[int] = []

    def inbox_add(self, items: Any, now: dt.datetime) -> list[bool]:
        self.adds.append(len(items))
        return super().inbox_add(items, now)

    def inbox_record(self, records: Any) -> None:
        self.records.append(len(records))
        super().inbox_record(records)


async def test_events_and_records_arriving_together_are_one_write_each() -> None:
    store, recorder = CountingStore(), Recorder()
    inbox = make_inbox(store, recorder)
    await inbox.start()
    await asyncio.gather(*(inbox.put(f"Ev{n}", f"T:U{n}", {"text": str(n)}) for n in range(50)))
    assert await inbox.drain(5) == 0
    await inbox.stop(1)
    assert sum(store.adds) == 50
    assert len(store.adds) <= 2  # the first request's write, then everything that came meanwhile
    assert len(recorder.sent) == 100
    # Per event: replies kept, first delivery, done (the second delivery with it): 150 records.
    assert sum(store.records) == 150
    assert len(store.records) < 50


def test_kept_replies_read_back_as_they_were() -> None:
    replies = [
        Reply(
            "Étape 1 : <recruter>",
            links=(Link("e-mail type", "https://hourofcode.com/fr/x", "à adapter"),),
            buttons=(Button("done:1", "C'est fait"), Button("topic:signup", "S'inscrire")),
            title="Recruter des écoles",
            lang="fr",
            kind="answer",
            topic="recruit-schools",
            replace=True,
        ),
        Reply("ok"),
    ]
    assert replies_from_json(replies_to_json(replies)) == replies
    with pytest.raises(ValueError, match="not kept replies"):
        replies_from_json('[{"text": "x"}]')
