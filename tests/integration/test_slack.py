"""Slack through the real bolt stack: signed requests to the real aiohttp server, a fake Web API on loopback."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import SlackPlatform
from bot.app import Bot, build_bot, build_platforms, load_knowledge
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.core.ports import UserKey
from bot.store.memory import MemoryStore
from bot.web import create_app
from tests.auxil.fake_slack_api import Call, FakeSlackApi, SlackDelivery, serve
from tests.auxil.harness import FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test_single"
TEAM = "T0001"
USER = "U0001"
DM = "DU0001"  # the fake's conversations.open answers "D" + user id


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def dm(text: str, event_id: str, *, user: str = USER) -> dict[str, Any]:
    payload = fixture("message_im")
    payload["event"].update(text=text, user=user, channel=f"D{user}", ts=f"{time.time():.6f}")
    payload["event_id"] = event_id
    return payload


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(Settings.from_env({}))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    api = await FakeSlackApi().start()
    api.add_workspace(TEAM, TOKEN, bot_user="UBOT1")
    api.add_user(USER, TEAM, locale="fr-FR", tz="Europe/Paris")
    api.add_user("U0002", TEAM, locale="en-US", tz="America/Chicago")
    yield api
    await api.stop()


@dataclass
class Stack:
    fake: FakeSlackApi
    bot: Bot
    platform: SlackPlatform
    slack: SlackDelivery
    store: MemoryStore

    async def settle(self) -> None:
        """Wait for the replies of the requests already acknowledged."""
        await self.platform.drain(within=15)

    def posts(self, method: str = "chat.postMessage") -> list[Call]:
        return self.fake.calls_to(method, ok=True)


@pytest.fixture
async def stack(fake: FakeSlackApi, kb: KnowledgeBase) -> AsyncIterator[Stack]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}
    settings = Settings.from_env(env)
    store = MemoryStore()
    bot = build_bot(settings, store=store, clock=FakeClock(), kb=kb)
    [platform] = build_platforms(settings, bot)
    assert isinstance(platform, SlackPlatform)
    runner, url = await serve(create_app([platform]))
    slack = SlackDelivery(url, SECRET)
    yield Stack(fake, bot, platform, slack, store)
    await slack.close()
    await runner.cleanup()


def text_of(call: Call) -> str:
    """Everything a message shows: its blocks' texts and button labels."""
    parts: list[str] = []
    blocks = call.params.get("blocks") or (call.params.get("view") or {}).get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts.extend(e["text"] for e in block["elements"])
        elif block["type"] == "actions":
            parts.extend(e["text"]["text"] for e in block["elements"])
    return "\n".join(parts)


def press(call: Call, button_id: str, *, user: str = USER, channel: str = DM, ts: str | None = None) -> dict[str, Any]:
    """The block_actions payload of a click on the button ``button_id`` of a posted message."""
    blocks = call.params.get("blocks") or (call.params.get("view") or {}).get("blocks") or []
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["value"] == button_id:
                payload = fixture("block_actions")
                payload["user"]["id"] = user
                payload["container"].update(channel_id=channel, message_ts=ts)
                payload["channel"]["id"] = channel
                payload["message"].update(ts=ts, blocks=blocks)
                payload["actions"][0].update(
                    action_id=element["action_id"], block_id=block["block_id"], value=element["value"]
                )
                return payload
    raise AssertionError(f"no button {button_id!r} in {text_of(call)!r}")


# ---------------------------------------------------------------------------------------------
async def test_url_verification_answers_the_challenge(stack: Stack) -> None:
    payload = fixture("url_verification")
    status, body = await stack.slack.event(payload)
    assert status == 200
    assert payload["challenge"] in body


async def test_french_conversation_end_to_end(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await stack.slack.event(dm("comment recruter des écoles ?", "EvFR0001"))
    assert status == 200
    await stack.settle()

    [profile] = stack.fake.calls_to("users.info")
    assert profile.params["user"] == USER
    assert str(profile.params["include_locale"]).lower() in ("1", "true")
    welcome, answer = stack.posts()
    assert {welcome.params["channel"], answer.params["channel"]} == {DM}
    assert {welcome.token, answer.token} == {TOKEN}
    assert "Bienvenue" in text_of(welcome)
    shown = text_of(answer)
    assert "*Étape 1 sur 5 : Recruter des écoles locales*" in shown
    assert "<https://hourofcode.com/fr/how-to|le guide de l'enseignant>" in shown
    assert "Étape suivante : 2" in shown
    state = stack.store.get_user(UserKey("slack", TEAM, USER))
    assert state is not None
    assert (state.locale_hint, state.tz) == ("fr-FR", "Europe/Paris")

    command = fixture("slash_command")
    command.update(channel_id=DM, channel_name="directmessage", text="plan", response_url=stack.fake.response_url("c1"))
    status, _ = await stack.slack.command(command)
    assert status == 200
    await stack.settle()
    checklist = stack.posts()[-1]
    assert checklist.params["channel"] == DM  # a normal message in the bot's DM, not an ephemeral one
    assert "⬜ 1. Recruter des écoles locales" in text_of(checklist)
    assert stack.fake.calls_to("response_url") == []

    ts = "1700000000.999999"
    status, _ = await stack.slack.action(press(checklist, "done:1", ts=ts))
    assert status == 200
    await stack.settle()
    [update] = stack.posts("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (DM, ts)
    assert "✅ 1. Recruter des écoles locales" in text_of(update)
    assert "Marquer l’étape 2 comme terminée" in text_of(update)
    assert len(stack.posts()) == 3  # nothing new posted: the checklist was updated in place
    assert TOKEN not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith(("bot.adapters.slack", "slack")) and r.levelno < 20]


async def test_slash_command_in_a_channel_is_ephemeral_and_its_buttons_replace_it(stack: Stack) -> None:
    command = fixture("slash_command")
    command.update(text="plan", response_url=stack.fake.response_url("cmd"))
    await stack.slack.command(command)
    await stack.settle()
    replies = stack.fake.calls_to("response_url")
    assert [r.params["response_type"] for r in replies] == ["ephemeral", "ephemeral"]  # welcome, checklist
    checklist = replies[-1]
    assert "⬜ 1." in text_of(checklist)

    click = press(checklist, "done:1", channel=command["channel_id"])
    click["container"]["is_ephemeral"] = True
    click["response_url"] = stack.fake.response_url("click")
    del click["message"]  # ephemeral messages are not sent back with their actions
    await stack.slack.action(click)
    await stack.settle()
    [update] = [c for c in stack.fake.calls_to("response_url") if c.path == "click"]
    assert update.params["replace_original"] is True
    assert "✅ 1." in text_of(update)
    assert stack.posts() == []
    assert stack.posts("chat.update") == []


async def test_a_replayed_signed_command_or_button_press_is_handled_once(stack: Stack) -> None:
    command = fixture("slash_command")
    command.update(text="remind tomorrow 9am step 2", response_url=stack.fake.response_url("cmd"))
    for _ in range(3):  # the same signed request, replayed within Slack's 5-minute window
        status, _ = await stack.slack.command(command)
        assert status == 200
    await stack.settle()
    assert len(stack.store.list_reminders(UserKey("slack", TEAM, USER))) == 1
    answered = len(stack.fake.calls_to("response_url"))

    command.update(text="plan", trigger_id="13345224609.738474920.another")  # a new command: handled
    await stack.slack.command(command)
    await stack.settle()
    checklist = stack.fake.calls_to("response_url")[-1]
    assert len(stack.fake.calls_to("response_url")) == answered + 1
    click = press(checklist, "done:1", channel=command["channel_id"])
    click["container"]["is_ephemeral"] = True
    click["response_url"] = stack.fake.response_url("click")
    del click["message"]  # ephemeral messages are not sent back with their actions
    for _ in range(2):
        await stack.slack.action(click)
    await stack.settle()
    assert len([c for c in stack.fake.calls_to("response_url") if c.path == "click"]) == 1
    state = stack.store.get_user(UserKey("slack", TEAM, USER))
    assert state is not None
    assert sorted(state.steps_done) == [1]


async def test_mention_is_answered_in_its_thread(stack: Stack) -> None:
    payload = fixture("app_mention")
    await stack.slack.event(payload)
    await stack.settle()
    posts = stack.posts()
    assert posts
    assert {p.params["channel"] for p in posts} == {payload["event"]["channel"]}
    assert {p.params["thread_ts"] for p in posts} == {payload["event"]["ts"]}
    assert "<https://hourofcode.com/" in text_of(posts[-1])


async def test_someone_elses_buttons_answer_privately_and_leave_the_message(stack: Stack) -> None:
    payload = fixture("app_mention")
    payload["event"]["text"] = "<@UBOT1> plan"
    await stack.slack.event(payload)
    await stack.settle()
    checklist = stack.posts()[-1]
    channel = payload["event"]["channel"]
    await stack.slack.action(press(checklist, "done:1", user="U0002", channel=channel, ts="1700000000.000001"))
    await stack.settle()
    assert stack.posts("chat.update") == []
    ephemerals = stack.posts("chat.postEphemeral")
    assert {(c.params["channel"], c.params["user"]) for c in ephemerals} == {(channel, "U0002")}
    mine = stack.store.get_user(UserKey("slack", TEAM, USER))
    theirs = stack.store.get_user(UserKey("slack", TEAM, "U0002"))
    assert mine is not None
    assert not mine.steps_done
    assert theirs is not None
    assert set(theirs.steps_done) == {1}


@pytest.mark.parametrize("block_id", ["hoc:0:0", "hoc:0:0:", "someone-else's-block", ""])
async def test_a_button_whose_owner_is_not_recorded_counts_as_someone_elses(stack: Stack, block_id: str) -> None:
    payload = fixture("app_mention")
    payload["event"]["text"] = "<@UBOT1> plan"
    await stack.slack.event(payload)
    await stack.settle()
    channel = payload["event"]["channel"]
    click = press(stack.posts()[-1], "done:1", user="U0002", channel=channel, ts="1700000000.000001")
    click["actions"][0]["block_id"] = block_id
    await stack.slack.action(click)
    await stack.settle()
    assert stack.posts("chat.update") == []  # the owner's message is left as it is
    assert {c.params["user"] for c in stack.posts("chat.postEphemeral")} == {"U0002"}


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("bot_message", {}),
        ("message_changed", {}),
        ("message_deleted", {}),
        ("message_im", {"user": "UBOT1", "text": "plan"}),  # the bot's own message
        ("message_im", {"bot_id": "B0OTHER", "text": "plan"}),  # another app's message
        ("message_im", {"channel_type": "channel", "channel": "C0001", "text": "plan"}),
    ],
)
@pytest.mark.parametrize("bot_user_known", [False, True], ids=["through-bolt", "direct"])
async def test_messages_not_written_to_the_bot_are_ignored(
    stack: Stack, name: str, change: dict[str, Any], bot_user_known: bool
) -> None:
    if bot_user_known:
        # Someone else's DM first: bolt finds the workspace's bot user, and message events skip it after.
        await stack.slack.event(dm("hello", "EvWARM01", user="U0002"))
        await stack.settle()
    before = len(stack.fake.sent())
    users_info = len(stack.fake.calls_to("users.info"))
    payload = fixture(name)
    payload["event"].update(change)
    status, _ = await stack.slack.event(payload)
    assert status == 200
    await stack.settle()
    assert len(stack.fake.sent()) == before
    assert len(stack.fake.calls_to("users.info")) == users_info
    assert stack.store.get_user(UserKey("slack", TEAM, USER)) is None


async def test_message_events_skip_bolt_once_the_workspace_bot_user_is_known(stack: Stack) -> None:
    dispatched: list[str] = []
    dispatch = stack.platform.app.async_dispatch

    async def counting(req: Any) -> Any:
        dispatched.append(str(req.body.get("type") or req.body.get("command") or ""))
        return await dispatch(req)

    stack.platform.app.async_dispatch = counting  # type: ignore[method-assign]
    await stack.slack.event(dm("plan", "EvFIRST01"))
    await stack.settle()
    assert dispatched == ["event_callback"]
    for n in range(3):
        await stack.slack.event(dm(f"aide {n}", f"EvNEXT0{n}"))
    mention = fixture("app_mention")
    mention["event_id"] = "EvMENTION9"
    await stack.slack.event(mention)
    await stack.settle()
    assert dispatched == ["event_callback"]  # handled without bolt, and answered all the same
    assert len([c for c in stack.posts() if c.params["channel"] == DM]) >= 4
    assert any(c.params.get("thread_ts") for c in stack.posts() if c.params["channel"] != DM)
    organisation = dm("aide", "EvORG00001")
    organisation["is_enterprise_install"] = True
    await stack.slack.event(organisation)
    command = fixture("slash_command")
    await stack.slack.command(command)
    await stack.settle()
    assert dispatched == ["event_callback", "event_callback", "/hoc"]


async def test_a_retried_event_is_answered_once(stack: Stack) -> None:
    payload = dm("plan", "EvRETRY001")
    for retry in (None, 1, 2):
        status, _ = await stack.slack.event(copy.deepcopy(payload), retry=retry)
        assert status == 200
    await stack.settle()
    checklists = [c for c in stack.posts() if "⬜ 1." in text_of(c)]
    assert len(checklists) == 1


async def test_a_rate_limited_reply_arrives_after_retry_after(stack: Stack) -> None:
    stack.fake.fail("chat.postMessage", status=429, retry_after=2)
    await stack.slack.event(dm("plan", "Ev429"))
    await stack.settle()
    attempts = stack.fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200, 200]  # welcome retried, then the checklist
    assert attempts[1].at - attempts[0].at >= 2.0
    assert "Bienvenue" in text_of(attempts[1])
    assert "⬜ 1." in text_of(attempts[2])


async def test_app_home_shows_the_plan_and_its_buttons_update_it(stack: Stack) -> None:
    stack.store.add_reminder(UserKey("slack", TEAM, USER), DM, 2, stack.bot.handler.clock.now().replace(month=12))
    await stack.slack.event(fixture("app_home_opened"))
    await stack.settle()
    [home] = stack.posts("views.publish")
    assert home.params["user_id"] == USER
    view = home.params["view"]
    assert view["type"] == "home"
    shown = text_of(home)
    assert "⬜ 1. Recruter des écoles locales" in shown
    assert "Votre événement" in shown
    assert "2 décembre 2026" in shown  # the next reminder, in the user's language and zone
    assert stack.posts() == []  # nothing posted in the DM for opening the Home tab

    click = fixture("block_actions_home")
    button = next(
        (b, e) for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["value"] == "done:1"
    )
    click["actions"][0].update(block_id=button[0]["block_id"], action_id=button[1]["action_id"])
    await stack.slack.action(click)
    await stack.settle()
    republished = stack.posts("views.publish")[-1]
    assert "✅ 1. Recruter des écoles locales" in text_of(republished)
    assert stack.posts() == []


async def test_messages_tab_opened_is_not_a_home_request(stack: Stack) -> None:
    payload = fixture("app_home_opened")
    payload["event"]["tab"] = "messages"
    await stack.slack.event(payload)
    await stack.settle()
    assert stack.fake.sent() == []


async def test_app_uninstalled_pauses_the_workspace_reminders(stack: Stack) -> None:
    clock = stack.bot.handler.clock
    ours, other = UserKey("slack", TEAM, USER), UserKey("slack", "T0999", USER)
    for key in (ours, other):
        stack.store.add_reminder(key, DM, 1, clock.now())
    await stack.slack.event(fixture("app_uninstalled"))
    await stack.settle()
    paused = stack.store.get_user(ours)
    kept = stack.store.get_user(other)
    assert paused is not None
    assert not paused.reminders_enabled
    assert kept is not None
    assert kept.reminders_enabled


async def test_replies_wait_while_other_requests_are_in_flight(stack: Stack) -> None:
    gate = stack.platform.gate
    gate.max_delay = 30.0
    gate.started()  # another platform request, not answered yet
    try:
        status, _ = await stack.slack.event(dm("bonjour", "EvGate1"))
        assert status == 200
        assert await stack.platform.drain(0.3) == 1
        assert stack.posts() == []  # acknowledged, not answered yet
    finally:
        gate.finished()
    await stack.settle()
    assert [c.params["channel"] for c in stack.posts()] == [DM, DM]  # welcome, then the answer
