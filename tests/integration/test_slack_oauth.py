"""Many workspaces: OAuth installs against the fake Slack, tokens in our SQLite database, uninstalls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from bot.adapters.slack import SlackPlatform
from bot.app import Bot, build_bot, build_platforms, load_knowledge
from bot.config import Settings
from bot.core.errors import PermanentSendError
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Reply
from bot.core.ports import UserKey
from bot.store.engine import open_store
from bot.store.sql import SqlStore
from bot.web import create_app
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery, serve
from tests.auxil.harness import FakeClock
from tests.integration.test_slack import SECRET, dm, fixture, text_of

# slack_sdk's oauth.v2.access sends the client credentials with aiohttp's BasicAuth, deprecated in aiohttp 3.14.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

STATE_SECRET = "s" * 40
DISTRICTS = {
    "T0001": ("xoxb-test_district_one", "UBOT1", "U0001"),
    "T0002": ("xoxb-test_district_two", "UBOT2", "U0002"),
}


@dataclass
class OAuthStack:
    fake: FakeSlackApi
    bot: Bot
    platform: SlackPlatform
    slack: SlackDelivery
    store: SqlStore
    browser: aiohttp.ClientSession
    url: str

    async def install(self, code: str) -> int:
        """A district admin's browser: open the install page, come back from Slack with ``code``."""
        async with self.browser.get(f"{self.url}/slack/install") as page:
            assert page.status == 200
            html = await page.text()
            match = re.search(r"slack-app-oauth-state=([^;]+)", page.headers["Set-Cookie"])
        assert match is not None
        state = match.group(1)
        assert f"state={quote(state)}" in html or f"state={state}" in html
        query = f"code={code}&state={quote(state)}"
        cookie = {"Cookie": f"slack-app-oauth-state={state}"}
        async with self.browser.get(f"{self.url}/slack/oauth_redirect?{query}", headers=cookie) as done:
            return done.status


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(Settings.from_env({}))


@pytest.fixture
async def oauth(tmp_path: Path, kb: KnowledgeBase) -> AsyncIterator[OAuthStack]:
    fake = await FakeSlackApi().start()
    for n, (team, (token, bot_user, user)) in enumerate(DISTRICTS.items(), start=1):
        fake.add_workspace(team, token, bot_user=bot_user, code=f"code-{n}")
        fake.add_user(user, team, locale="fr-FR", tz="Europe/Paris")
    env = {
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret-value",
        "SLACK_STATE_SECRET": STATE_SECRET,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    settings = Settings.from_env(env)
    store = open_store(f"sqlite:///{tmp_path / 'hoc.sqlite3'}")
    bot = build_bot(settings, store=store, clock=FakeClock(), kb=kb)
    [platform] = build_platforms(settings, bot)
    assert isinstance(platform, SlackPlatform)
    runner, url = await serve(create_app([platform]))
    slack = SlackDelivery(url, SECRET)
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    yield OAuthStack(fake, bot, platform, slack, store, browser, url)
    await browser.close()
    await slack.close()
    await runner.cleanup()
    await fake.stop()
    store.close()


def event_from(team: str, text: str, event_id: str) -> dict[str, object]:
    _, bot_user, user = DISTRICTS[team]
    payload = dm(text, event_id, user=user)
    payload["team_id"] = team
    payload["authorizations"] = [
        {"enterprise_id": None, "team_id": team, "user_id": bot_user, "is_bot": True, "is_enterprise_install": False}
    ]
    return payload


async def test_two_workspaces_are_each_answered_with_their_own_token(oauth: OAuthStack) -> None:
    assert await oauth.install("code-1") == 200
    assert await oauth.install("code-2") == 200
    exchanges = oauth.fake.calls_to("oauth.v2.access", ok=True)
    assert [c.params["code"] for c in exchanges] == ["code-1", "code-2"]
    for team, (token, _, _) in DISTRICTS.items():
        assert await oauth.platform.token_for(team) == token

    for n, team in enumerate(DISTRICTS):
        status, _ = await oauth.slack.event(event_from(team, "plan", f"EvOAUTH{n}"))
        assert status == 200
    await oauth.platform.drain(within=15)

    posts = oauth.fake.calls_to("chat.postMessage", ok=True)
    by_channel = {(c.params["channel"], c.token) for c in posts}
    assert by_channel == {("DU0001", "xoxb-test_district_one"), ("DU0002", "xoxb-test_district_two")}
    assert all(c.token for c in oauth.fake.calls if c.method in ("users.info", "auth.test"))
    assert "⬜ 1." in text_of(posts[-1])


async def test_install_with_a_forged_state_is_refused(oauth: OAuthStack) -> None:
    forged = "nonce.9999999999.0000"
    cookie = {"Cookie": f"slack-app-oauth-state={forged}"}
    async with oauth.browser.get(f"{oauth.url}/slack/oauth_redirect?code=code-1&state={forged}", headers=cookie) as r:
        assert r.status >= 400
    assert oauth.fake.calls_to("oauth.v2.access") == []
    assert await oauth.platform.token_for("T0001") is None


async def test_a_state_is_good_for_one_install(oauth: OAuthStack) -> None:
    async with oauth.browser.get(f"{oauth.url}/slack/install") as page:
        match = re.search(r"slack-app-oauth-state=([^;]+)", page.headers["Set-Cookie"])
    assert match is not None
    state = match.group(1)
    cookie = {"Cookie": f"slack-app-oauth-state={state}"}
    statuses = []
    for _ in range(2):
        async with oauth.browser.get(
            f"{oauth.url}/slack/oauth_redirect?code=code-1&state={quote(state)}", headers=cookie
        ) as r:
            statuses.append(r.status)
    assert statuses[0] == 200
    assert statuses[1] >= 400
    assert len(oauth.fake.calls_to("oauth.v2.access")) == 1


async def test_uninstall_removes_the_tokens_and_pauses_reminders(oauth: OAuthStack) -> None:
    await oauth.install("code-1")
    await oauth.install("code-2")
    clock = oauth.bot.handler.clock
    one, two = UserKey("slack", "T0001", "U0001"), UserKey("slack", "T0002", "U0002")
    for key in (one, two):
        oauth.store.add_reminder(key, f"D{key.user}", 1, clock.now())

    await oauth.slack.event(fixture("app_uninstalled"))  # from T0001
    await oauth.platform.drain(within=15)

    assert await oauth.platform.token_for("T0001") is None
    assert await oauth.platform.token_for("T0002") == "xoxb-test_district_two"
    paused, kept = oauth.store.get_user(one), oauth.store.get_user(two)
    assert paused is not None
    assert not paused.reminders_enabled
    assert kept is not None
    assert kept.reminders_enabled
    reply = Reply("Rappel : étape 1.")
    with pytest.raises(PermanentSendError):
        await oauth.platform.sender.send(one, "DU0001", reply)
    await oauth.platform.sender.send(two, "DU0002", reply)
    [sent] = oauth.fake.calls_to("chat.postMessage", ok=True)
    assert (sent.params["channel"], sent.token) == ("DU0002", "xoxb-test_district_two")


async def test_bot_token_revoked_is_an_uninstall(oauth: OAuthStack) -> None:
    await oauth.install("code-1")
    await oauth.slack.event(fixture("tokens_revoked"))
    await oauth.platform.drain(within=15)
    assert await oauth.platform.token_for("T0001") is None
