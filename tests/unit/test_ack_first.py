"""Acknowledgements first: the gate that holds back work while requests are in flight, and the backlog."""

from __future__ import annotations

import asyncio

import pytest

from bot.web import AckFirst, Backlog


async def test_the_gate_is_open_while_no_request_is_in_flight() -> None:
    gate = AckFirst(max_delay=5.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await gate.turn(gate.clock())
    assert loop.time() - began < 1.0


async def test_work_waits_until_requests_in_flight_are_answered_and_a_quiet_moment_passed() -> None:
    gate = AckFirst(max_delay=30.0, quiet=0.05)
    gate.started()
    waiter = asyncio.create_task(gate.turn(gate.clock()))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    gate.started()  # a second request arrives
    gate.finished()
    await asyncio.sleep(0.1)
    assert not waiter.done(), "one request is still in flight"
    gate.finished()
    gate.started()  # and another one comes within the quiet time: the gate stays shut
    await asyncio.sleep(0.01)
    gate.finished()
    assert not waiter.done()
    await asyncio.wait_for(waiter, 5)
    assert gate.in_flight == 0


async def test_work_waits_no_longer_than_max_delay_after_its_request_arrived() -> None:
    gate = AckFirst(max_delay=0.2, quiet=0.01)
    gate.started()  # never finished: a sustained load
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(gate.turn(gate.clock()), 5)
    assert 0.15 <= loop.time() - began < 4
    # Work whose request arrived long ago does not wait at all.
    began = loop.time()
    await gate.turn(gate.clock() - 10)
    assert loop.time() - began < 0.1


async def test_the_backlog_runs_work_in_arrival_order_with_a_bounded_number_of_workers() -> None:
    gate = AckFirst()
    failures: list[BaseException] = []
    backlog = Backlog(lambda: gate, 3, failures.append)
    running, most, done = 0, 0, []

    async def work(n: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(n)
        if n == 5:
            raise RuntimeError("boom")

    for n in range(20):
        backlog.submit(work(n))
    assert len(backlog) == 20
    assert await backlog.join(10) == 0
    assert most == 3
    assert sorted(done) == list(range(20))
    assert done[:3] == [0, 1, 2]  # started in arrival order
    assert [str(e) for e in failures] == ["boom"]


async def test_work_submitted_as_the_last_worker_ends_still_runs() -> None:
    gate = AckFirst()
    backlog = Backlog(lambda: gate, 1, lambda exc: None)
    done: list[int] = []

    async def work(n: int) -> None:
        done.append(n)
        if n == 0:
            # Submitted while the only worker is busy, and again right as it runs out of work.
            backlog.submit(work(1))

    backlog.submit(work(0))
    await backlog.join(5)
    backlog.submit(work(2))
    assert await backlog.join(5) == 0
    assert done == [0, 1, 2]


async def test_backlog_work_waits_for_the_gate() -> None:
    gate = AckFirst(max_delay=30.0, quiet=0.01)
    backlog = Backlog(lambda: gate, 4, lambda exc: None)
    done: list[int] = []

    async def work() -> None:
        done.append(1)

    gate.started()
    backlog.submit(work())
    assert await backlog.join(0.2) == 1
    assert done == []
    gate.finished()
    assert await backlog.join(5) == 0
    assert done == [1]


async def test_join_gives_up_after_its_time_and_counts_what_is_left() -> None:
    gate = AckFirst()
    backlog = Backlog(lambda: gate, 1, lambda exc: None)
    release = asyncio.Event()

    async def work() -> None:
        await release.wait()

    backlog.submit(work())
    backlog.submit(work())
    assert await backlog.join(0.1) == 2
    release.set()
    assert await backlog.join(5) == 0


@pytest.mark.parametrize("status", [200, 404, 500])
def test_the_access_log_keeps_failures_and_slow_requests_only(status: int, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from aiohttp.test_utils import make_mocked_request
    from aiohttp.web import Response

    from bot.web import ProblemAccessLogger

    logger = logging.getLogger("test.access")
    access = ProblemAccessLogger(logger, "")
    request = make_mocked_request("POST", "/slack/events")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, Response(status=status), 0.01)
        access.log(request, Response(status=200), 2.5)
    lines = [r.getMessage() for r in caplog.records]
    expected = ["POST /slack/events 200 in 2500 ms"]
    if status >= 400:
        expected.insert(0, f"POST /slack/events {status} in 10 ms")
    assert lines == expected


async def test_a_full_backlog_holds_the_next_piece_of_work_until_there_is_room() -> None:
    gate = AckFirst(max_delay=30.0, quiet=0.01)
    backlog = Backlog(lambda: gate, 1, lambda exc: None, limit=2)
    done: list[int] = []

    async def work(n: int) -> None:
        done.append(n)

    gate.started()  # nothing runs while a request is in flight
    for n in range(3):  # the first is taken by the worker, the next two wait
        await asyncio.wait_for(backlog.put(work(n)), 1)
    third = asyncio.create_task(backlog.put(work(3)))
    await asyncio.sleep(0.2)
    assert not third.done(), "two pieces wait already: no room"
    gate.finished()
    await asyncio.wait_for(third, 5)
    assert await backlog.join(5) == 0
    assert done == [0, 1, 2, 3]
