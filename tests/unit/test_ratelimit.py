"""The per-user rate limit, shared by the handler's worker threads."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.core.ports import UserKey
from bot.core.ratelimit import RateLimiter

KEY = UserKey("slack", "T1", "U1")


def test_the_limit_then_one_notice_then_silence() -> None:
    limiter = RateLimiter(limit=3, window=10.0)
    assert [limiter.check(KEY, 0.0) for _ in range(6)] == ["ok", "ok", "ok", "notice", "silent", "silent"]
    assert limiter.check(KEY, 10.0) == "ok"  # the window moved on


@pytest.fixture
def switch_often() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave as often as they can
    yield
    sys.setswitchinterval(before)


def _race(limiter: RateLimiter, threads: int, each: int) -> Counter[str]:
    """Outcomes of ``threads`` threads each sending ``each`` messages of one user at once."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def send() -> None:
        start.wait()
        mine = Counter(limiter.check(KEY, 1.0) for _ in range(each))
        with lock:
            outcomes.update(mine)

    running = [threading.Thread(target=send) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return outcomes


@pytest.mark.usefixtures("switch_often")
def test_threads_sharing_it_let_exactly_the_limit_through() -> None:
    for _ in range(20):
        outcomes = _race(RateLimiter(limit=50, window=60.0), threads=8, each=40)
        assert outcomes == {"ok": 50, "notice": 1, "silent": 8 * 40 - 51}
