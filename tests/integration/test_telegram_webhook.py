"""Telegram webhook mode through the shared aiohttp server (bot.web.create_app) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramConfig, TelegramPlatform, looks_like_update
from bot.app import Bot, build_bot
from bot.config import Settings
from bot.store.memory import MemoryStore
from bot.web import MAX_BODY, create_app
from tests.auxil.fake_telegram_api import FIXTURES, FakeTelegramAPI, load_update, telegram_env
from tests.auxil.harness import FakeClock

SECRET = "s3cret-webhook-token_0123456789"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class Served:
    api: FakeTelegramAPI
    platform: TelegramPlatform
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: bytes | str, secret: str | None = SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = io.BytesIO(body.encode() if isinstance(body, str) else body)
        async with self.http.post(self.url, data=data, headers=headers) as response:
            return response.status

    async def post_update(self, update: dict[str, object], secret: str | None = SECRET) -> int:
        return await self.post(json.dumps(update), secret)


@pytest.fixture
def bot() -> Bot:
    clock = FakeClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))
    return build_bot(Settings.from_env({"HOC_EVENT_DATE": "2026-12-07"}), store=MemoryStore(), clock=clock)


@pytest.fixture
async def served(bot: Bot) -> AsyncIterator[Served]:
    async with FakeTelegramAPI() as api:
        env = telegram_env(api, TELEGRAM_WEBHOOK_URL=PUBLIC_URL, TELEGRAM_WEBHOOK_SECRET=SECRET)
        platform = TelegramPlatform(TelegramConfig.from_env(env), bot)
        runner = web.AppRunner(create_app([platform]), handle_signals=False, access_log=None)
        await runner.setup()  # runs the platforms' start()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield Served(api, platform, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", http)
        await runner.cleanup()  # runs stop()


async def test_webhook_is_registered_with_the_secret_and_nothing_polls(served: Served) -> None:
    (registered,) = served.api.sent("setWebhook")
    assert registered.params["url"] == PUBLIC_URL
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == ["message", "callback_query"]
    assert served.api.sent("getUpdates") == []
    assert served.api.sent("deleteWebhook") == []


async def test_an_update_with_the_right_secret_is_answered(served: Served) -> None:
    assert await served.post_update(load_update("text_private")) == 200
    _welcome, answer = await served.api.wait_for("sendMessage", 2)
    assert "hourofcode.com/fr/" in answer.text


async def test_rejected_requests_are_not_processed(served: Served) -> None:
    update = load_update("hoc_plan", update_id=300)
    assert await served.post_update(update, secret=None) == 401
    assert await served.post_update(update, secret="s3cret-webhook-token_0123456788") == 403
    assert await served.post_update(update, secret="") == 403
    assert await served.post("{not json", secret=SECRET) == 400
    assert await served.post('["a", "list"]', secret=SECRET) == 400
    assert await served.post('{"update_id": 301, "message": {"text": 1}}', secret=SECRET) == 400
    assert await served.post('{"update_id": 301, "message": "hello"}', secret=SECRET) == 400
    assert await served.post('{"update_id": 301, "callback_query": [1]}', secret=SECRET) == 400
    assert await served.post("[" * 10_000 + "]" * 10_000, secret=SECRET) == 400
    assert await served.post('{"update_id": 301, "a": ' + "{" * 10_000 + "}" * 10_000 + "}", secret=SECRET) == 400
    huge = json.dumps({**load_update("text_private", update_id=302), "padding": "x" * MAX_BODY})
    assert await served.post(huge, secret=SECRET) == 413
    # A valid update afterwards is the only one answered: the rejected ones never got in.
    assert await served.post_update(load_update("text_private", update_id=303)) == 200
    await served.api.wait_for("sendMessage", 2)
    await served.platform.stop()  # drains the queue: anything queued would have been answered now
    sent = served.api.sent("sendMessage")
    assert len(sent) == 2
    assert "Votre plan" not in sent[0].text + sent[1].text


async def test_a_huge_body_without_content_length_is_refused(served: Served) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with served.http.post(served.url, data=chunks(), headers=headers) as response:
        assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
        assert response.status == 413


async def test_a_webhook_retry_is_answered_once(served: Served) -> None:
    update = load_update("hoc_plan", update_id=400)
    assert await served.post_update(update) == 200
    assert await served.post_update(update) == 200  # Telegram retries when it got no answer in time
    assert await served.post_update(load_update("hoc_plan", update_id=401, **{"message.text": "/hoc steps"})) == 200
    await served.api.wait_for("sendMessage", 3)  # welcome, plan, steps
    await served.platform.stop()
    texts = [c.text for c in served.api.sent("sendMessage")]
    assert len(texts) == 3
    assert sum("Votre plan" in t for t in texts) == 1


async def test_callback_query_through_the_webhook(served: Served) -> None:
    assert await served.post_update(load_update("hoc_plan", update_id=410)) == 200
    plan = (await served.api.wait_for("sendMessage", 2))[-1]
    press = load_update("callback_done", update_id=411, **{"callback_query.message.message_id": plan.message_id})
    assert await served.post_update(press) == 200
    (edit,) = await served.api.wait_for("editMessageText")
    assert len(served.api.sent("answerCallbackQuery")) == 1
    assert edit.params["message_id"] == plan.message_id
    assert "✅ 1." in edit.text


async def test_updates_wait_while_other_webhook_requests_are_in_flight(served: Served) -> None:
    gate = served.platform.gate
    gate.max_delay = 30.0
    gate.started()  # another webhook request, not answered yet
    try:
        assert await served.post_update(load_update("text_private", update_id=500)) == 200
        await asyncio.sleep(0.3)
        assert served.api.sent("sendMessage") == []  # acknowledged, not answered yet
    finally:
        gate.finished()
    _welcome, answer = await served.api.wait_for("sendMessage", 2)
    assert "hourofcode.com/fr/" in answer.text


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_every_kind_of_update_the_bot_reads_has_the_shape_of_one(name: str) -> None:
    assert looks_like_update(load_update(name))


@pytest.mark.parametrize(
    ("where", "patch"),
    [
        ("message", {"chat": {"id": "x", "type": "private"}}),
        ("message", {"chat": {"id": 1}}),
        ("message", {"from": [1]}),
        ("message", {"from": {"id": True}}),
        ("message", {"date": "today"}),
        ("message", {"entities": "bold"}),
        ("message", {"from": {"id": 5, "language_code": 5}}),
        ("message", {"from": {"id": 5, "username": ["x"]}}),
        ("message", {"date": 10**20}),
        ("message", {"date": -1}),
        ("message", {"message_id": 2**80}),
        ("", {"update_id": "7"}),
        ("", {"update_id": 2**64}),
        ("", {"poll": 3}),
    ],
)
def test_updates_of_the_wrong_shape_are_refused_before_the_answer(where: str, patch: dict[str, object]) -> None:
    update = load_update("text_private")
    (update[where] if where else update).update(patch)
    assert not looks_like_update(update)


async def test_an_update_ptb_cannot_read_is_acknowledged_dropped_and_logged(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    broken = load_update("text_private", update_id=600)
    broken["message"]["photo"] = "x"
    assert await served.post_update(broken) == 200
    assert await served.post_update(load_update("text_private", update_id=601)) == 200
    await served.api.wait_for("sendMessage", 2)  # welcome and answer of the second one
    await served.platform.stop()
    assert len(served.api.sent("sendMessage")) == 2
    assert "Telegram: update 600 could not be read: TypeError" in caplog.text
