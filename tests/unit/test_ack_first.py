"""Acknowledgements first: the gate that holds back work while requests are in flight."""

from __future__ import annotations

import asyncio

import pytest

from bot.web import AckFirst


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
