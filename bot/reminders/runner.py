"""The reminder worker: claim due reminders, send them through a Sender, record the outcome.

Delivery guarantee: at least once. Without crashes every due reminder is sent exactly once,
even with several workers on one PostgreSQL database, because a claim leases the row to one
worker. A worker that dies after a send but before recording it leaves a lease that expires;
another worker then claims the reminder and sends it again. Sends are made one at a time, so at
most one reminder per dead worker is sent twice; the others it had claimed are sent once, late
by at most the lease. The same holds when recording a delivery fails (database gone mid-batch).
A worker never starts a send on a lease about to run out, so a slow batch cannot let another
worker claim a reminder it is still going to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Reply
from bot.core.ports import Clock, Reminder, Sender, Store, UserKey

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunStats:
    """What one or more runs did.

    Attributes:
        claimed: Reminders leased from the store.
        sent: Delivered and marked sent.
        retried: Given back after a transient failure, to retry later.
        failed: Marked failed (permanent error, too many attempts, no sender, composing failed).
        dropped: Too late to be worth sending.
        released: Given back unprocessed: the worker was stopping, the batch outlasted its lease,
            or the user's reminders were paused during the run.
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    released: int = 0

    def __add__(self, other: RunStats) -> RunStats:
        return RunStats(
            self.claimed + other.claimed,
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.dropped + other.dropped,
            self.released + other.released,
        )


@dataclass(slots=True)
class _Tally:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    released: int = 0

    def stats(self) -> RunStats:
        return RunStats(self.claimed, self.sent, self.retried, self.failed, self.dropped, self.released)


class ReminderRunner:
    """Delivers due reminders; run several of them (processes) against one database to scale.

    Args:
        store: Where reminders are claimed and their outcome recorded; called in a thread.
        senders: The Sender of each platform (``slack``, ``telegram``, ``console``).
        compose: Builds the reply for a reminder; mentioning the original date of a late one is its job.
        clock: Source of the current time.
        worker_id: Names this worker in the leases it takes.
        batch: Reminders claimed per run.
        lease: How long a claim is exclusive; a dead worker's reminders come back after it.
        max_late: Reminders due longer ago than this are dropped, not sent.
        max_attempts: Attempts (claims) after which a transient failure becomes final.
        backoff: Delay before the first retry; doubles with each attempt, with jitter.
        max_backoff: Longest delay between retries (a platform's ``retry_after`` may exceed it).
        on_drop: Called with each reminder dropped as too late (metrics, operators).
        logger: Where outcomes are logged.
        rng: Random source of the jitter (seeded in tests).
    """

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        compose: Callable[[Reminder], Reply],
        clock: Clock,
        *,
        worker_id: str,
        batch: int = 100,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        max_late: dt.timedelta = dt.timedelta(hours=36),
        max_attempts: int = 8,
        backoff: dt.timedelta = dt.timedelta(seconds=30),
        max_backoff: dt.timedelta = dt.timedelta(hours=1),
        on_drop: Callable[[Reminder], None] | None = None,
        logger: logging.Logger | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if batch < 1 or max_attempts < 1:
            raise ValueError("batch and max_attempts must be at least 1")
        self.store = store
        self.senders = dict(senders)
        self.compose = compose
        self.clock = clock
        self.worker_id = worker_id
        self.batch = batch
        self.lease = lease
        self.max_late = max_late
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.on_drop = on_drop
        self.log = logger or _log
        self.rng = rng or random.Random()

    # ------------------------------------------------------------------ loop
    async def run_forever(self, stop: asyncio.Event, interval: float | dt.timedelta = 5.0) -> RunStats:
        """Run until ``stop`` is set, pausing ``interval`` between runs that found little to do.

        On stop, the send in flight is finished and recorded and the other claimed reminders are
        given back. A failing store is logged and retried after ``interval``.

        Returns:
            The totals of all runs.
        """
        pause = interval.total_seconds() if isinstance(interval, dt.timedelta) else float(interval)
        total = RunStats()
        while not stop.is_set():
            try:
                stats = await self.run_once(stop=stop)
            except Exception:
                self.log.exception("reminder run failed; retrying in %.1f s", pause)
                stats = RunStats()
            total += stats
            if stop.is_set():
                break
            if stats.claimed >= self.batch and stats.released < stats.claimed:
                continue  # more are due: no pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
        return total

    async def run_once(self, *, stop: asyncio.Event | None = None) -> RunStats:
        """Claim due reminders and deliver them one by one.

        Args:
            stop: When set during the run, the reminders not yet handled are given back.

        Returns:
            What this run did.
        """
        now = self.clock.now()
        claimed = await asyncio.to_thread(
            self.store.claim_due,
            now,
            limit=self.batch,
            lease=self.lease,
            worker=self.worker_id,
            platforms=frozenset(self.senders),
        )
        tally = _Tally(claimed=len(claimed))
        paused: set[UserKey] = set()
        index = 0
        reason = "worker stopped before sending"
        try:
            while index < len(claimed):
                if stop is not None and stop.is_set():
                    break
                if self._lease_ending(claimed[index]):
                    # Another worker may claim it once the lease is over: sending now could double it.
                    reason = "lease ran out before sending"
                    break
                await self._deliver(claimed[index], tally, paused)
                index += 1
        except asyncio.CancelledError:
            # Cancelled mid-send: whether that one went out is unknown; give it back with the rest.
            self._release_now(claimed[index:], tally, "worker cancelled")
            raise
        if index < len(claimed):
            await asyncio.to_thread(self._release_now, claimed[index:], tally, reason)
        return tally.stats()

    def _lease_ending(self, r: Reminder) -> bool:
        return r.lease_until is not None and self.clock.now() >= r.lease_until - self.lease / 10

    def _release_now(self, reminders: list[Reminder], tally: _Tally, reason: str) -> None:
        now = self.clock.now()
        for r in reminders:
            self.store.release(r.id, now, reason)
            tally.released += 1

    # -------------------------------------------------------------- delivery
    async def _deliver(self, r: Reminder, tally: _Tally, paused: set[UserKey]) -> None:
        now = self.clock.now()
        if r.key in paused:
            # Its user's reminders were just paused; keep it pending in case they are resumed.
            await asyncio.to_thread(self.store.release, r.id, now, "reminders paused for this user")
            tally.released += 1
            return
        late = now - r.due_at
        if late > self.max_late:
            error = f"dropped: due {r.due_at.isoformat()}, {_hours(late)} h late (limit {_hours(self.max_late)} h)"
            await asyncio.to_thread(self.store.mark_failed, r.id, error, status="dropped")
            tally.dropped += 1
            self.log.warning("reminder %d dropped: %s", r.id, error)
            if self.on_drop is not None:
                self.on_drop(r)
            return
        sender = self.senders.get(r.key.platform)
        if sender is None:
            error = f"no sender for platform {r.key.platform!r}"
            await asyncio.to_thread(self.store.mark_failed, r.id, error)
            tally.failed += 1
            self.log.error("reminder %d failed: %s", r.id, error)
            return
        try:
            reply = self.compose(r)
        except Exception as exc:
            await asyncio.to_thread(self.store.mark_failed, r.id, f"compose failed: {exc!r}")
            tally.failed += 1
            self.log.exception("reminder %d failed: composing its text raised", r.id)
            return
        try:
            await sender.send(r.key, r.chat, reply)
        except PermanentSendError as exc:
            await self._permanent(r, str(exc) or type(exc).__name__, tally, paused)
        except TransientSendError as exc:
            await self._transient(r, str(exc) or type(exc).__name__, exc.retry_after, tally)
        except Exception as exc:
            # An error the adapter did not classify: assume the platform may recover.
            self.log.exception("reminder %d: unexpected send error", r.id)
            await self._transient(r, f"unexpected: {exc!r}", None, tally)
        else:
            await asyncio.to_thread(self.store.mark_sent, r.id, self.clock.now())
            tally.sent += 1

    async def _permanent(self, r: Reminder, error: str, tally: _Tally, paused: set[UserKey]) -> None:
        await asyncio.to_thread(self.store.mark_failed, r.id, error)
        tally.failed += 1
        await asyncio.to_thread(self.store.set_reminders_enabled, r.key, False)
        paused.add(r.key)
        self.log.warning(
            "reminder %d failed permanently on %s (%s); reminders paused for this user",
            r.id,
            r.key.platform,
            error,
        )

    async def _transient(self, r: Reminder, error: str, retry_after: float | None, tally: _Tally) -> None:
        if r.attempts >= self.max_attempts:
            final = f"gave up after {r.attempts} attempts: {error}"
            await asyncio.to_thread(self.store.mark_failed, r.id, final)
            tally.failed += 1
            self.log.error("reminder %d failed: %s", r.id, final)
            return
        delay = self.retry_delay(r.attempts, retry_after)
        retry_at = self.clock.now() + delay
        await asyncio.to_thread(self.store.release, r.id, retry_at, error)
        tally.retried += 1
        self.log.info("reminder %d: %s; retry in %.0f s", r.id, error, delay.total_seconds())

    def retry_delay(self, attempts: int, retry_after: float | None = None) -> dt.timedelta:
        """The wait before the next attempt: exponential with jitter, never less than ``retry_after``.

        Args:
            attempts: Attempts made so far (1 after the first).
            retry_after: Seconds the platform asked to wait, if it said.

        Returns:
            Between half and all of ``backoff * 2 ** (attempts - 1)`` (capped at ``max_backoff``),
            or ``retry_after`` when that is longer.
        """
        # The exponent is capped so that a large attempt count cannot overflow timedelta.
        ceiling = min(self.backoff * (1 << min(max(attempts - 1, 0), 20)), self.max_backoff)
        delay = ceiling * (0.5 + 0.5 * self.rng.random())
        if retry_after is not None and retry_after > 0:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        return delay


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"
