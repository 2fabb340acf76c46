"""How many messages one chat user may send: a sliding window per user, with one notice when refused."""

from __future__ import annotations

import threading
from collections import deque

from bot.core.ports import UserKey


class RateLimiter:
    """At most ``limit`` messages per ``window`` seconds per user; one notice when the limit is hit.

    Safe to share between threads (the handler runs in worker threads).
    """

    def __init__(self, limit: int, window: float, max_users: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_users = max_users
        self._seen: dict[UserKey, deque[float]] = {}
        self._warned: set[UserKey] = set()
        self._lock = threading.Lock()

    def check(self, key: UserKey, now: float) -> str:
        """``ok``, ``notice`` (first refusal: tell the user) or ``silent`` (refused again)."""
        if self.limit <= 0:
            return "ok"
        with self._lock:
            return self._check(key, now)

    def _check(self, key: UserKey, now: float) -> str:
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= self.max_users:
                self._prune(now)
            times = self._seen[key] = deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(key)
            return "ok"
        if key in self._warned:
            return "silent"
        self._warned.add(key)
        return "notice"

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= self.window]:
            del self._seen[key]
            self._warned.discard(key)
