"""The SQLite writers' lock of one process, where the inbox's writes go before the others."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriteLock:
    """A lock whose urgent holders pass before the others waiting.

    Writing the events that wait for their acknowledgement is what platforms time; the handler's
    writes can wait a millisecond more. SQLite lets one writer in at a time, so without an order,
    a burst of replies would delay acknowledging the requests that keep coming.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._urgent_waiting = 0

    @contextmanager
    def hold(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock; ``urgent`` holders are let in before the others waiting."""
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
                try:
                    while self._held:
                        self._cond.wait()
                finally:
                    self._urgent_waiting -= 1
            else:
                while self._held or self._urgent_waiting:
                    self._cond.wait()
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()
