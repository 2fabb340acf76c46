"""Pacing to a platform's limits: a rate limiter for a whole bot, one per channel, and the doubling
back-off of a loop that starts again after a failure.

Both limiters reserve a caller's slot before it waits, so that concurrent callers queue up one
interval apart, in call order (a GCRA bucket: the slot is the "theoretical arrival time").
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Hashable


def _reserve(tat: float, now: float, interval: float, burst: int) -> tuple[float, float]:
    """The next theoretical arrival time and the wait of the caller that takes the slot at ``now``."""
    tat = max(tat, now)
    return tat + interval, tat - now - (burst - 1) * interval


class RateLimiter:
    """Spaces calls to at most ``rate`` per second, allowing bursts of ``burst`` (a GCRA bucket)."""

    def __init__(
        self,
        rate: float = 30.0,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.interval = 1.0 / rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0  # when the bucket is empty again ("theoretical arrival time")

    async def acquire(self) -> None:
        """Wait for a slot; slots are taken in call order."""
        self._tat, wait = _reserve(self._tat, self._clock(), self.interval, self.burst)
        if wait > 0:
            await self._sleep(wait)


class ChannelPacer:
    """At most one call per ``min_interval`` seconds to each channel (any hashable key).

    Args:
        min_interval: Seconds between two calls to one channel.
        clock: Monotonic seconds.
        sleep: Waits.
        remembered: Channels remembered before those whose slot is past are forgotten.
    """

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        remembered: int = 10_000,
    ) -> None:
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self.remembered = remembered
        self._next_slot: dict[Hashable, float] = {}

    async def acquire(self, channel: Hashable) -> None:
        """Wait for the next free slot of ``channel``."""
        now = self.clock()
        self._next_slot[channel], wait = _reserve(self._next_slot.get(channel, 0.0), now, self.min_interval, 1)
        if len(self._next_slot) > self.remembered:
            self._next_slot = {c: t for c, t in self._next_slot.items() if t > now}
        if wait > 0:
            await self.sleep(wait)


class Backoff:
    """The waits of a loop started again after each failure: ``first``, doubling up to ``cap``.

    Args:
        first: The first wait, in seconds (and the one after :meth:`reset`).
        cap: The longest wait.
        jitter: Each wait is drawn within this fraction of the nominal one (0: exact).
    """

    def __init__(self, first: float, cap: float, *, jitter: float = 0.0) -> None:
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self.delay = first

    def next(self) -> float:
        """The wait to do now (around :attr:`delay`); the nominal one after it doubles."""
        wait = self.delay * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else self.delay
        self.delay = min(self.delay * 2, self.cap)
        return wait

    def reset(self) -> None:
        """Back to the first wait (after a success)."""
        self.delay = self.first
