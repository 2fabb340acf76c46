"""The Slack Sender against the fake Web API: DMs, 429s, permanent and transient failures, pacing, the runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.adapters.slack import SlackConfig, SlackPlatform, SlackSender, make_client
from bot.app import build_bot, load_knowledge
from bot.config import Settings
from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Button, Reply
from bot.core.ports import UserKey
from bot.reminders.runner import ReminderRunner
from bot.store.memory import MemoryStore
from tests.auxil.fake_slack_api import FakeSlackApi
from tests.auxil.harness import FakeClock
from tests.integration.test_slack import text_of

TOKEN = "xoxb-test_single"
ANN = UserKey("slack", "T0001", "U0001")
REPLY = Reply("Rappel : étape 2, plan logistique.", buttons=(Button("done:2", "Marquer l’étape 2 comme terminée"),))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(Settings.from_env({}))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    api = await FakeSlackApi().start()
    api.add_workspace("T0001", TOKEN, bot_user="UBOT1")
    yield api
    await api.stop()


@pytest.fixture
def platform(fake: FakeSlackApi, kb: KnowledgeBase) -> SlackPlatform:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": fake.api_url}
    store = MemoryStore()
    return SlackPlatform.from_env(env, build_bot(Settings.from_env({}), store=store, clock=FakeClock(), kb=kb))


async def test_a_reminder_goes_to_the_users_dm(platform: SlackPlatform, fake: FakeSlackApi) -> None:
    await platform.sender.send(ANN, "C-where-they-last-wrote", REPLY)
    [opened] = fake.calls_to("conversations.open")
    assert opened.params["users"] == "U0001"
    [post] = fake.calls_to("chat.postMessage")
    assert (post.params["channel"], post.token) == ("DU0001", TOKEN)
    assert "Rappel : étape 2" in text_of(post)
    assert "Marquer l’étape 2 comme terminée" in text_of(post)

    await platform.sender.send(ANN, "DU0001", REPLY)
    assert len(fake.calls_to("conversations.open")) == 1  # the DM channel is remembered


async def test_a_short_retry_after_is_waited_out(platform: SlackPlatform, fake: FakeSlackApi) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=1)
    await platform.sender.send(ANN, "DU0001", REPLY)
    limited, delivered = fake.calls_to("chat.postMessage")
    assert (limited.status, delivered.status) == (429, 200)
    assert delivered.at - limited.at >= 1.0


async def test_a_long_retry_after_is_left_to_the_runner(platform: SlackPlatform, fake: FakeSlackApi) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=120)
    with pytest.raises(TransientSendError) as caught:
        await platform.sender.send(ANN, "DU0001", REPLY)
    assert caught.value.retry_after == 120
    assert len(fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("chat.postMessage", "channel_not_found"),
        ("chat.postMessage", "not_in_channel"),
        ("chat.postMessage", "is_archived"),
        ("conversations.open", "account_inactive"),
        ("conversations.open", "user_not_found"),
    ],
)
async def test_gone_users_and_channels_are_permanent_failures(
    platform: SlackPlatform, fake: FakeSlackApi, method: str, error: str
) -> None:
    fake.fail(method, error=error)
    with pytest.raises(PermanentSendError, match=error):
        await platform.sender.send(ANN, "DU0001", REPLY)


async def test_server_errors_and_timeouts_are_transient(fake: FakeSlackApi) -> None:
    config = SlackConfig(bot_token=TOKEN, signing_secret="secret", api_url=fake.api_url)

    async def token_for(team: str) -> str | None:
        return TOKEN

    sender = SlackSender(make_client(config, retry_server_errors=False, timeout=1), token_for)
    fake.fail("chat.postMessage", status=500)
    with pytest.raises(TransientSendError) as caught:
        await sender.send(ANN, "DU0001", REPLY)
    assert caught.value.retry_after is None
    fake.fail("chat.postMessage", delay=1.5)
    with pytest.raises(TransientSendError, match="TimeoutError"):
        await sender.send(ANN, "DU0001", REPLY)


async def test_messages_to_one_channel_are_paced(fake: FakeSlackApi) -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    async def token_for(team: str) -> str | None:
        return TOKEN

    config = SlackConfig(bot_token=TOKEN, signing_secret="secret", api_url=fake.api_url)
    sender = SlackSender(make_client(config), token_for, min_interval=1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await sender.send(ANN, "DU0001", REPLY)
    await sender.send(UserKey("slack", "T0001", "U0002"), "DU0002", REPLY)
    assert waits == [1.0, 1.0]  # the third message waited for the second's slot; U0002's did not wait
    assert len(fake.calls_to("chat.postMessage", ok=True)) == 4


async def test_the_runner_delivers_and_pauses_through_slack(platform: SlackPlatform, fake: FakeSlackApi) -> None:
    handler = platform.bot.handler
    store, clock = handler.store, handler.clock
    assert isinstance(clock, FakeClock)
    bob = UserKey("slack", "T0001", "U0009")
    store.add_reminder(ANN, "DU0001", 2, clock.now() - dt.timedelta(minutes=1))
    store.add_reminder(bob, "DU0009", 2, clock.now() - dt.timedelta(minutes=1))
    fake.fail("conversations.open", error="user_not_found")  # the first user in due order: Ann
    runner = ReminderRunner(store, {"slack": platform.sender}, lambda r: REPLY, clock, worker_id="w")
    stats = await runner.run_once()
    assert (stats.sent, stats.failed) == (1, 1)
    ann = store.get_user(ANN)
    assert ann is not None
    assert not ann.reminders_enabled
    [post] = fake.calls_to("chat.postMessage", ok=True)
    assert post.params["channel"] == "DU0009"
