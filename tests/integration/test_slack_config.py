"""Slack configuration: variables checked and named, HTTP or Socket Mode, one or many workspaces, rejected
requests: refused before their body is read, given up when their body does not come, and acknowledged
without a traceback when signed but unusable."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
import yaml
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.adapters.slack import BOT_SCOPES, SlackConfig, SlackPlatform
from bot.app import build_bot, load_knowledge
from bot.config import Settings
from bot.core.errors import ConfigError
from bot.core.knowledge import KnowledgeBase
from bot.core.ports import UserKey
from bot.store.memory import MemoryStore
from bot.web import BODIES, MAX_BODY, create_app
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery, serve
from tests.auxil.harness import FakeClock
from tests.integration.test_slack import SECRET, TEAM, TOKEN, USER, dm, fixture, text_of

APP_TOKEN = "xapp-1-A0HOCBOT-1234-abcdef"
OAUTH = {"SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "shh-client", "SLACK_STATE_SECRET": "s" * 40}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(Settings.from_env({}))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    api = await FakeSlackApi().start()
    api.add_workspace(TEAM, TOKEN, bot_user="UBOT1")
    api.add_user(USER, TEAM, locale="fr-FR", tz="Europe/Paris")
    yield api
    await api.stop()


def platform_for(env: dict[str, str], kb: KnowledgeBase, store: MemoryStore | None = None) -> SlackPlatform:
    bot = build_bot(Settings.from_env({}), store=store or MemoryStore(), clock=FakeClock(), kb=kb)
    return SlackPlatform.from_env(env, bot)


# ------------------------------------------------------------------------------------- variables
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxp-test_user_token", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xoxb-test_wrong_kind"}, "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, **OAUTH}, "SLACK_BOT_TOKEN"),
        ({**OAUTH, "SLACK_SIGNING_SECRET": SECRET, "SLACK_STATE_SECRET": ""}, "SLACK_STATE_SECRET"),
        ({**OAUTH, "SLACK_SIGNING_SECRET": SECRET, "SLACK_STATE_SECRET": "short"}, "SLACK_STATE_SECRET"),
        ({**OAUTH, "SLACK_SIGNING_SECRET": SECRET, "SLACK_CLIENT_SECRET": ""}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
    ],
)
def test_bad_settings_name_the_variable_and_hide_secrets(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        SlackConfig.from_env(env)
    for name, value in env.items():
        if name != "SLACK_API_URL" and len(value) > 6:
            assert value not in str(caught.value)


def test_settings_keep_secrets_out_of_repr() -> None:
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET})
    assert TOKEN not in repr(config)
    assert SECRET not in repr(config)
    assert config.api_url == "https://slack.com/api/"
    trailing = SlackConfig.from_env(
        {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "http://127.0.0.1:9/api"}
    )
    assert trailing.api_url == "http://127.0.0.1:9/api/"


def test_http_mode_serves_events_and_oauth_mode_adds_the_install_routes(fake: FakeSlackApi, kb: KnowledgeBase) -> None:
    single = platform_for({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET}, kb)
    assert [(r.method, r.path) for r in single.routes()] == [("POST", "/slack/events")]  # type: ignore[attr-defined]
    many = platform_for({**OAUTH, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}, kb)
    assert [(r.method, r.path) for r in many.routes()] == [  # type: ignore[attr-defined]
        ("POST", "/slack/events"),
        ("GET", "/slack/install"),
        ("GET", "/slack/oauth_redirect"),
    ]
    for platform in (single, many):
        assert platform.app.client.base_url in ("https://slack.com/api/", fake.api_url)
        assert platform.app.oauth_flow is None or platform.app.oauth_flow.client.base_url == fake.api_url


async def test_socket_mode_is_chosen_by_the_app_token(fake: FakeSlackApi, kb: KnowledgeBase) -> None:
    platform = platform_for({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.api_url}, kb)
    assert platform.config.socket_mode
    assert list(platform.routes()) == []
    handler = platform.socket_handler()
    try:
        assert isinstance(handler, AsyncSocketModeHandler)
        assert handler.app_token == APP_TOKEN
        assert handler.client.web_client.base_url == fake.api_url
    finally:
        await handler.close_async()


async def test_socket_mode_answers_a_dm_end_to_end(fake: FakeSlackApi, kb: KnowledgeBase) -> None:
    platform = platform_for({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.api_url}, kb)
    await platform.start()
    try:
        [opened] = fake.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN
        await fake.push_socket_event("env-1", dm("plan", "EvSOCKET1"))
        posts = await fake.wait_for("chat.postMessage", count=2)
        await platform.drain(within=15)
    finally:
        await platform.stop()
    assert "⬜ 1." in text_of(posts[-1])
    assert {"envelope_id": "env-1"} in fake.socket_acks


# ------------------------------------------------------------------------------------- rejected requests
Served = tuple[SlackDelivery, SlackPlatform, MemoryStore]


@pytest.fixture
async def served(fake: FakeSlackApi, kb: KnowledgeBase) -> AsyncIterator[Served]:
    store = MemoryStore()
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}
    platform = platform_for(env, kb, store)
    runner, url = await serve(create_app([platform]))
    slack = SlackDelivery(url, SECRET)
    yield slack, platform, store
    await slack.close()
    await runner.cleanup()


async def test_unsigned_forged_stale_oversized_and_malformed_requests_are_refused(
    served: Served, fake: FakeSlackApi
) -> None:
    slack, platform, store = served
    body = json.dumps(dm("plan", "EvREFUSED"))
    cases = {
        "missing headers": await slack.post(body, signed=False),
        "forged signature": await slack.post(body, secret="not-the-signing-secret"),
        "stale timestamp": await slack.post(body, timestamp=int(time.time()) - 6 * 60),
        "future timestamp": await slack.post(body, timestamp=int(time.time()) + 6 * 60),
        "bad timestamp": await slack.post(body, headers={"X-Slack-Request-Timestamp": "soon"}),
        "over 1 MB": await slack.post(body + " " * MAX_BODY),
        "malformed JSON": await slack.post('{"type": "event_callback", "event": '),
        "malformed interaction": await slack.post(
            "payload=%7Bnot+json", content_type="application/x-www-form-urlencoded"
        ),
    }
    await platform.drain()
    statuses = {name: status for name, (status, _) in cases.items()}
    assert all(400 <= status < 500 for status in statuses.values()), statuses
    assert statuses["forged signature"] == statuses["stale timestamp"] == statuses["missing headers"] == 401
    assert statuses["over 1 MB"] == 413
    assert statuses["malformed JSON"] == 400
    assert fake.calls == []  # not even auth.test: nothing reached bolt's listeners
    assert store.get_user(UserKey("slack", TEAM, USER)) is None

    status, _ = await slack.event(json.loads(body))  # the same event, properly signed
    assert status == 200
    await platform.drain()
    assert fake.calls_to("chat.postMessage")


# ------------------------------------------------------------------------------------- unusable input
def _event(**changes: Any) -> str:
    payload = dm("plan", "EvMALFORMED")
    payload.update(changes)
    return json.dumps(payload)


def _event_with(**changes: Any) -> str:
    payload = dm("plan", "EvMALFORMED")
    payload["event"].update(changes)
    return json.dumps(payload)


def _action(**changes: Any) -> str:
    payload = fixture("block_actions")
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)})


def _command(**changes: Any) -> str:
    fields = {k: v for k, v in {**fixture("slash_command"), **changes}.items() if v is not None}
    return urlencode(fields)


FORM = "application/x-www-form-urlencoded"
SIGNED_BUT_UNUSABLE = {
    "JSON array": ("[1, 2]", "application/json"),
    "JSON null": ("null", "application/json"),
    "JSON string": ('"hello"', "application/json"),
    "JSON number": ("42", "application/json"),
    "nested 10,000 deep": ("[" * 10_000 + "]" * 10_000, "application/json"),
    "object nested 10,000 deep": (
        '{"type": "event_callback", "x": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001,
        "application/json",
    ),
    "no type": (json.dumps({"event": {}}), "application/json"),
    "event null": (_event(event=None), "application/json"),
    "event a list": (_event(event=[1]), "application/json"),
    "event text a list": (_event_with(text=["plan"]), "application/json"),
    "event text a number": (_event_with(text=5), "application/json"),
    "event user a number": (_event_with(user=5), "application/json"),
    "team id a number": (_event(team_id=5), "application/json"),
    "payload a list": (urlencode({"payload": "[1, 2]"}), FORM),
    "actions empty": (_action(actions=[]), FORM),
    "actions a string": (_action(actions="x"), FORM),
    "action a number": (_action(actions=[1]), FORM),
    "action value a list": (_action(actions=[{"action_id": "a", "value": [1]}]), FORM),
    "user a string": (_action(user="U0001"), FORM),
    "container a list": (_action(container=[1]), FORM),
    "command without user_id": (_command(user_id=None), FORM),
    "command without response_url": (_command(response_url=None), FORM),
}


@pytest.mark.parametrize("name", list(SIGNED_BUT_UNUSABLE))
async def test_a_signed_body_the_bot_cannot_use_is_acknowledged_and_logged(
    served: Served, fake: FakeSlackApi, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    slack, platform, _ = served
    body, content_type = SIGNED_BUT_UNUSABLE[name]
    status, _ = await slack.post(body, content_type=content_type)
    await platform.drain()
    assert status == 200
    assert "a signed request was ignored" in caplog.text
    assert "Traceback" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)
    assert fake.calls == []  # nothing reached a listener
    # The server is healthy: a proper message afterwards is answered.
    status, _ = await slack.event(dm("plan", "EvAFTER"))
    await platform.drain()
    assert status == 200
    assert fake.calls_to("chat.postMessage")


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("no signature", {}),
        ("stale timestamp", {"X-Slack-Request-Timestamp": "1000000000", "X-Slack-Signature": "v0=" + "0" * 64}),
        ("timestamp not a number", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64}),
        ("signature of the wrong form", {"X-Slack-Request-Timestamp": "NOW", "X-Slack-Signature": "sha256=abc"}),
    ],
)
async def test_a_request_that_cannot_be_signed_is_refused_before_its_body_is_read(
    served: Served, name: str, headers: dict[str, str]
) -> None:
    url = served[0].base_url
    sent = {k: v.replace("NOW", str(int(time.time()))) for k, v in headers.items()}
    status = await _stalled_request(url, sent, content_length=1_000_000, within=5)
    assert status == 401


async def test_a_body_that_does_not_come_is_given_up_after_the_deadline(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = served[0].base_url
    monkeypatch.setattr(BODIES, "deadline", 0.5)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "a" * 64}
    started = time.monotonic()
    status = await _stalled_request(url, headers, content_length=1_000_000, within=5)
    assert status == 408
    assert time.monotonic() - started < 3
    assert BODIES.large == 0


async def test_large_bodies_read_at_once_are_capped(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    url = served[0].base_url
    monkeypatch.setattr(BODIES, "max_large", 2)
    monkeypatch.setattr(BODIES, "deadline", 2.0)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "a" * 64}
    statuses = await asyncio.gather(
        *(_stalled_request(url, headers, content_length=500_000, within=10, pause=i * 0.2) for i in range(4))
    )
    assert sorted(statuses) == [408, 408, 503, 503]


async def _stalled_request(
    url: str, headers: dict[str, str], *, content_length: int, within: float, pause: float = 0.0
) -> int:
    """Send headers announcing a body, send a few bytes of it, then nothing; the status answered."""
    await asyncio.sleep(pause)
    where = urlparse(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        lines = [
            "POST /slack/events HTTP/1.1",
            f"Host: {where.hostname}",
            "Content-Type: application/json",
            f"Content-Length: {content_length}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + b'{"type": ')
        await writer.drain()
        async with asyncio.timeout(within):
            status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


# ------------------------------------------------------------------------------------- manifest
def test_manifest_asks_for_what_the_code_uses() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "slack" / "manifest.yml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/hoc"
    assert command["url"].endswith("/slack/events")
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    events = set(settings["event_subscriptions"]["bot_events"])
    assert events == {"app_home_opened", "app_mention", "app_uninstalled", "message.im", "tokens_revoked"}
