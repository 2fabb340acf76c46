"""Matrix replies out: an event refused for a while (rate limit, network, server error) is tried again; a
room that refuses the bot, or a wait too long, is given up at once."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from nio import RoomSendError, RoomSendResponse

from bot.adapters.matrix.delivery import MAX_RETRY_AFTER, MatrixSendError, Outbox
from bot.core.messages import Reply


class FakeClient:
    """Answers ``room_send`` with the outcomes it is given, in order, and records each call."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[dict[str, Any]] = []

    async def room_send(self, room: str, kind: str, content: dict[str, Any], **_: Any) -> Any:
        self.sent.append(content)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _outbox(client: FakeClient, waits: list[float]) -> Outbox:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return Outbox(lambda: client, lambda lang: "", sleep=sleep)  # type: ignore[arg-type, return-value]


def _ok(n: int = 1) -> RoomSendResponse:
    return RoomSendResponse(f"$event{n}", "!room")


async def test_a_rate_limit_is_waited_out_then_the_reply_is_sent_once() -> None:
    client = FakeClient(RoomSendError("slow down", "M_LIMIT_EXCEEDED", 2500), _ok())
    waits: list[float] = []
    ids = await _outbox(client, waits).send("!room", Reply("Bonjour"))
    assert ids == ["$event1"]
    assert waits == [2.5]
    assert len(client.sent) == 2


async def test_network_trouble_and_server_errors_are_tried_again_with_growing_waits() -> None:
    client = FakeClient(aiohttp.ClientConnectionError(), RoomSendError("oops", "M_UNKNOWN_ERROR"), _ok())
    waits: list[float] = []
    assert await _outbox(client, waits).send("!room", Reply("Bonjour")) == ["$event1"]
    assert len(waits) == 2
    assert 0.8 <= waits[0] <= 1.2
    assert 1.6 <= waits[1] <= 2.4


async def test_after_three_refusals_the_last_one_is_raised() -> None:
    refusal = RoomSendError("busy", "M_LIMIT_EXCEEDED", 10)
    client = FakeClient(refusal, refusal, refusal, _ok())
    waits: list[float] = []
    with pytest.raises(MatrixSendError) as caught:
        await _outbox(client, waits).send("!room", Reply("Bonjour"))
    assert caught.value.code == "M_LIMIT_EXCEEDED"
    assert len(client.sent) == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    "refusal",
    [
        RoomSendError("not in room", "M_FORBIDDEN"),
        RoomSendError("come back tomorrow", "M_LIMIT_EXCEEDED", int((MAX_RETRY_AFTER + 1) * 1000)),
    ],
)
async def test_a_room_that_refuses_the_bot_or_a_long_wait_is_given_up_at_once(refusal: RoomSendError) -> None:
    client = FakeClient(refusal, _ok())
    waits: list[float] = []
    with pytest.raises(MatrixSendError):
        await _outbox(client, waits).send("!room", Reply("Bonjour"))
    assert len(client.sent) == 1
    assert waits == []
