"""Slack configuration: variables checked and named, HTTP or Socket Mode, one or many workspaces, rejected requests."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

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
from bot.web import MAX_BODY, create_app
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery, serve
from tests.auxil.harness import FakeClock
from tests.integration.test_slack import SECRET, TEAM, TOKEN, USER, dm, text_of

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
