"""The durable inbox every platform uses: an event is in the database before it is acknowledged, and
handled from there, by this process or, after a crash, by the next one (or another one on PostgreSQL).

What is guaranteed:

- An acknowledged event is handled, even when the process is killed right after acknowledging it:
  it is claimed again on the next start (SQLite) or once its lease expires (PostgreSQL).
- An event redelivered by the platform, or a signed request replayed, while its key is kept
  (:data:`DONE_KEPT` after it was handled) is not handled again.
- The events of one order key (a user, a chat) are handled one at a time, in arrival order.
- When the database cannot keep an event (it is down), the event is handled at once from memory
  (the handler then apologises to the user) rather than refused: there is nothing durable to offer,
  and an apology now is better than silence.
- The handler answers an event once: its replies are kept before the first is sent, and a new claim
  sends the ones not delivered yet. A reply is sent twice only when the process dies between the
  platform accepting it and the database recording it: the records of the events in hand are written
  together, on a thread of their own and before the handler's writes, to keep that window short
  (``bench/reply_window.py`` measures it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from bot.core.errors import ConfigError
from bot.core.messages import Button, Link, Reply
from bot.core.ports import Clock, InboxItem, InboxRecord, InboxRow, InboxStore
from bot.web import AckFirst

#: How long a claimed event is reserved to its process; a dead process's events wait this long.
LEASE = dt.timedelta(seconds=30)
#: Seconds between two looks at the inbox for events this process was not told about.
POLL = 1.0
#: Claims of one event after which it is given up (it killed the process that many times).
MAX_ATTEMPTS = 5
#: How long a handled event's key is kept, so that a redelivery is recognised.
DONE_KEPT = dt.timedelta(hours=1)
#: Seconds between two purges of handled events' keys.
PURGE_EVERY = 600.0
#: Seconds a stopping platform lets the events in hand finish (container platforms allow 30 in all).
SHUTDOWN_WITHIN = 20.0

_log = logging.getLogger(__name__)


def replies_to_json(replies: Sequence[Reply]) -> str:
    """``replies`` as JSON text, to keep them until they are delivered (``meta`` is left out)."""
    return json.dumps(
        [
            {
                "text": r.text,
                "links": [[link.label, link.url, link.note] for link in r.links],
                "buttons": [[b.id, b.label] for b in r.buttons],
                "title": r.title,
                "lang": r.lang,
                "kind": r.kind,
                "topic": r.topic,
                "replace": r.replace,
            }
            for r in replies
        ],
        ensure_ascii=False,
    )


def replies_from_json(data: str) -> list[Reply]:
    """The replies kept by :func:`replies_to_json`.

    Raises:
        ValueError: ``data`` is not what :func:`replies_to_json` writes.
    """
    try:
        return [
            Reply(
                str(r["text"]),
                links=tuple(Link(str(label), str(url), str(note)) for label, url, note in r["links"]),
                buttons=tuple(Button(str(id_), str(label)) for id_, label in r["buttons"]),
                title=str(r["title"]),
                lang=str(r["lang"]),
                kind=str(r["kind"]),
                topic=None if r["topic"] is None else str(r["topic"]),
                replace=bool(r["replace"]),
            )
            for r in json.loads(data)
        ]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not kept replies: {exc}") from exc


def lease_from_env(env: Mapping[str, str]) -> dt.timedelta:
    """``HOC_INBOX_LEASE_SECONDS`` (default 30): how long a process that died keeps its events from the others.

    Raises:
        ConfigError: The value is not a number of seconds between 1 and 3600.
    """
    raw = env.get("HOC_INBOX_LEASE_SECONDS", "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 3600:
        raise ConfigError(f"HOC_INBOX_LEASE_SECONDS: {raw!r} is not a number of seconds between 1 and 3600")
    return dt.timedelta(seconds=seconds)


class Turn:
    """One claimed event being handled: its payload, the replies kept for it, and their delivery."""

    def __init__(self, inbox: Inbox, row: InboxRow, *, kept: bool = True) -> None:
        self.inbox = inbox
        self.row = row
        self.kept = kept
        self.sent = row.sent

    @property
    def payload(self) -> Any:
        """The payload the platform kept (decoded JSON)."""
        return json.loads(self.row.item.payload)

    async def replies(self, answer: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
        """The replies to this event: those kept by an earlier claim, or ``answer()``'s, kept now."""
        if self.row.replies is not None:
            try:
                return replies_from_json(self.row.replies)
            except ValueError:
                _log.warning("%s: the replies kept for an event could not be read; answering again", self.inbox.name)
        replies = await answer()
        if self.kept:
            await self.inbox.record(InboxRecord(self.row.id, replies=replies_to_json(replies)))
        return replies

    async def deliver(self, replies: Sequence[Reply], send: Callable[[Reply], Awaitable[None]]) -> None:
        """Send the replies not delivered yet, recording each delivery (the last one is recorded as done)."""
        for index in range(self.sent, len(replies)):
            await send(replies[index])
            self.sent = index + 1
            if self.kept and self.sent < len(replies):
                await self.inbox.record(InboxRecord(self.row.id, sent=self.sent))


Process = Callable[[Turn], Awaitable[None]]


class InboxHost(Protocol):
    """Where a platform's inbox lives: the handler's store and clock."""

    @property
    def store(self) -> InboxStore:
        """Keeps the events."""
        ...

    @property
    def clock(self) -> Clock:
        """The current time."""
        ...


class Inbox:
    """One platform's events: kept in batches before their acknowledgement, claimed and handled.

    Args:
        name: The platform (``slack``, ``telegram``).
        store: Where events are kept.
        process: Handles one event; what it raises is logged, and the event counts as handled.
        clock: The current time (leases, purges).
        gate: Returns the gate handling waits at while acknowledgements are in flight.
        workers: Events handled at once.
        reset_leases: Free every lease of this platform at start (one process per database: SQLite).
    """

    def __init__(
        self,
        name: str,
        store: InboxStore,
        process: Process,
        *,
        clock: Clock,
        gate: Callable[[], AckFirst],
        workers: int = 64,
        reset_leases: bool = False,
        lease: dt.timedelta = LEASE,
        poll: float = POLL,
    ) -> None:
        self.name = name
        self.store = store
        self.process = process
        self.clock = clock
        self.gate = gate
        self.workers = workers
        self.reset_leases = reset_leases
        self.lease = lease
        self.poll = poll
        self.owner = uuid.uuid4().hex
        self._batch: list[tuple[InboxItem, asyncio.Future[bool]]] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"inbox-{name}")
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"inbox-{name}-sent")
        self._records: list[tuple[InboxRecord, asyncio.Future[None]]] = []
        self._recording: asyncio.Task[None] | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._next_purge = 0.0
        self._claims_failing = False

    @classmethod
    def for_platform(
        cls,
        name: str,
        host: InboxHost,
        process: Process,
        gate: Callable[[], AckFirst],
        *,
        workers: int = 64,
        lease: dt.timedelta = LEASE,
    ) -> Inbox:
        """The inbox of platform ``name`` in the handler's store, on its clock (``host``: the handler).

        The leases a dead run left are freed at start when one process at most uses the store
        (``inbox_exclusive``); otherwise they expire after ``lease``.
        """
        store = host.store
        return cls(
            name,
            store,
            process,
            clock=host.clock,
            gate=gate,
            workers=workers,
            reset_leases=store.inbox_exclusive,
            lease=lease,
        )

    # ------------------------------------------------------------------ keeping
    async def put(self, key: str, order: str, payload: Any) -> bool:
        """Keep an event; returns once it is committed, True if new, False if its key was kept already.

        Events put while a batch is being written go together in the next one: one transaction for
        the requests that arrive together.

        When the database fails, the event is handled from memory (see the module's docstring) and
        this returns True.
        """
        item = InboxItem(self.name, key, order, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._batch.append((item, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            try:
                # A thread of its own: acknowledging never waits behind the handler's work in the
                # shared executor.
                added = await asyncio.get_running_loop().run_in_executor(
                    self._writer, self.store.inbox_add, [item for item, _ in batch], self.clock.now()
                )
            except Exception as exc:
                _log.error(
                    "%s: %d events could not be kept (%s); handled from memory",
                    self.name,
                    len(batch),
                    type(exc).__name__,
                )
                for item, future in batch:
                    self._start(InboxRow(0, item, 1), kept=False, since=self.gate().clock())
                    if not future.done():
                        future.set_result(True)
                continue
            for (_, future), new in zip(batch, added, strict=True):
                if not future.done():
                    future.set_result(new)
            self._signal()

    async def record(self, record: InboxRecord) -> None:
        """Commit what became of a claimed event; returns once committed (raises what the store raised).

        Records made while a batch is being written go together in the next one, on a thread of
        their own: between a platform accepting a reply and its record, a crash would send that
        reply twice, so that time is kept short under load.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._records.append((record, future))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.get_running_loop().create_task(self._write_records())
        await future

    async def _write_records(self) -> None:
        while self._records:
            batch, self._records = self._records, []
            try:
                await asyncio.get_running_loop().run_in_executor(
                    self._recorder, self.store.inbox_record, [record for record, _ in batch]
                )
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    # ------------------------------------------------------------------ handling
    async def start(self) -> None:
        """Start claiming (after freeing this platform's leases with ``reset_leases``)."""
        if self._loop_task is not None:
            return
        self._stopping = False
        if self.reset_leases:
            freed = await asyncio.to_thread(self.store.inbox_release, self.name, None)
            if freed:
                _log.info("%s: %d events left unfinished by the last run are handled again", self.name, freed)
        self._wake = asyncio.Event()
        self._loop_task = asyncio.get_running_loop().create_task(self._claim_loop())

    async def stop(self, within: float) -> int:
        """Stop claiming, let the events in hand finish for ``within`` seconds, give the rest back.

        Returns:
            How many events in hand were given back (handled on the next start, or by another process).
        """
        self._stopping = True
        if self._flushing is not None:
            await asyncio.wait({self._flushing}, timeout=max(within, 0.1))
        if self._loop_task is not None:
            self._signal()
            await asyncio.wait({self._loop_task}, timeout=1.0)
            self._loop_task.cancel()
            self._loop_task = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(within, 0.0))
        left = list(self._tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=1.0)
        try:
            await asyncio.to_thread(self.store.inbox_release, self.name, self.owner)
        except Exception as exc:
            _log.warning("%s: leases not freed at shutdown (%s); they expire", self.name, type(exc).__name__)
        return len(left)

    async def close(self, within: float, log: logging.Logger, label: str, items: str = "events") -> int:
        """:meth:`stop`, warning on ``log`` when events are left for the next start (``label``: the platform
        as its log lines name it, ``items``: what its events are called)."""
        left = await self.stop(within)
        if left:
            log.warning("%s: %d %s left in the inbox for the next start", label, left, items)
        return left

    async def drain(self, within: float) -> int:
        """Wait until nothing of this platform is kept unhandled, or ``within`` seconds; what is left."""
        deadline = time.monotonic() + within
        while True:
            left = len(self._tasks) + len(self._batch)
            if not left:
                try:
                    left = await asyncio.to_thread(self.store.inbox_pending, self.name)
                except Exception:
                    left = 0  # the database is down: nothing more is known to be waiting
            if not left or time.monotonic() >= deadline:
                return left
            self._signal()
            await asyncio.sleep(0.01)

    def __len__(self) -> int:
        """Events in hand."""
        return len(self._tasks)

    def _signal(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _claim_loop(self) -> None:
        assert self._wake is not None
        next_extend = time.monotonic() + self.lease.total_seconds() / 3
        while not self._stopping:
            self._wake.clear()
            free = self.workers - len(self._tasks)
            if free > 0:
                # Claiming writes to the database too: not while requests wait for their
                # acknowledgement (for 1 s at most, see AckFirst), so that acknowledging stays fast.
                since = self.gate().clock()
                await self.gate().turn(since)
                try:
                    rows = await asyncio.to_thread(
                        self.store.inbox_claim, self.name, self.owner, self.clock.now(), self.lease, free
                    )
                except Exception as exc:
                    if not self._claims_failing:
                        _log.error("%s: could not claim events: %s", self.name, type(exc).__name__)
                    self._claims_failing = True
                    rows = []
                else:
                    if self._claims_failing:
                        _log.info("%s: claiming events again", self.name)
                    self._claims_failing = False
                for row in rows:
                    self._start(row, since=since)
            now = time.monotonic()
            if now >= next_extend:
                next_extend = now + self.lease.total_seconds() / 3
                await self._maintain()
            try:
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            except TimeoutError:
                pass
            # Several events finishing together start one claim, not one each.
            await asyncio.sleep(0.002)

    def _start(self, row: InboxRow, *, since: float, kept: bool = True) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(Turn(self, row, kept=kept), since))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._signal()

    async def _maintain(self) -> None:
        try:
            if self._tasks:
                await asyncio.to_thread(self.store.inbox_extend, self.owner, self.clock.now(), self.lease)
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + PURGE_EVERY
                await asyncio.to_thread(self.store.inbox_purge, self.clock.now() - DONE_KEPT)
        except Exception as exc:
            _log.warning("%s: inbox upkeep failed: %s", self.name, type(exc).__name__)

    async def _handle(self, turn: Turn, since: float) -> None:
        row = turn.row
        await self.gate().turn(since)
        try:
            if row.attempts > MAX_ATTEMPTS:
                _log.error("%s: an event was given up after %d attempts", self.name, row.attempts - 1)
            else:
                await self.process(turn)
        except Exception as exc:
            _log.error("%s: handling an event failed", self.name, exc_info=exc)
        if not turn.kept:
            return
        try:
            await self.record(InboxRecord(row.id, sent=turn.sent, done_at=self.clock.now()))
        except Exception as exc:
            # Handled again once the lease expires; its kept replies are not sent twice.
            _log.error("%s: an event could not be marked handled: %s", self.name, type(exc).__name__)
