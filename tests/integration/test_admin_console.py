"""The /admin console over HTTP: who gets in (links, sessions, CSRF), what the pages show, languages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot.store.sql import SqlStore
from tests.auxil.console import SECRET_USER, ConsoleBot, seed

PROTECTED_GETS = ["/admin/progress", "/admin/progress.csv", "/admin/review", "/admin/progress?platform=slack"]
PROTECTED_POSTS = ["/admin/signout"]


class Browser:
    """A client that keeps cookies itself (aiohttp's jar would not send Secure cookies over http)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.last_set_cookie: list[str] = []

    def _keep(self, response) -> None:  # type: ignore[no-untyped-def]
        self.last_set_cookie = response.headers.getall("Set-Cookie", [])
        for header in self.last_set_cookie:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": "en", **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        async with self.client.get(path, headers=self._headers(headers), allow_redirects=False) as response:
            self._keep(response)
            return response.status, await response.text(), dict(response.headers)

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        async with self.client.post(path, data=data, headers=self._headers(None), allow_redirects=False) as response:
            self._keep(response)
            return response.status, await response.text(), dict(response.headers)

    async def sign_in(self, link: str) -> None:
        status, html, _ = await self.get(link)
        assert status == 200, html
        token = re.search(r'name="token" value="([^"]+)"', html)
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert token
        assert csrf
        status, _, headers = await self.post("/admin/signin", {"token": token.group(1), "csrf": csrf.group(1)})
        assert status == 303
        assert headers["Location"] == "/admin/progress"

    def csrf(self, html: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', html)
        assert found
        return found.group(1)


@pytest.fixture
def console(sql_store: SqlStore) -> ConsoleBot:
    return ConsoleBot(sql_store)


@pytest.fixture
async def browser(console: ConsoleBot) -> AsyncIterator[Browser]:
    client = TestClient(TestServer(console.app()), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        yield Browser(client)
    finally:
        await client.close()


# ---------------------------------------------------------------------------------------- who gets in
async def test_nobody_without_a_session_reaches_a_page(browser: Browser, console: ConsoleBot) -> None:
    seed(console.store, console.clock.now().date())
    for path in PROTECTED_GETS:
        status, body, headers = await browser.get(path)
        assert status == 303, path
        assert headers["Location"] == "/admin/", path
        assert "Coordinators" not in body
    for path in PROTECTED_POSTS:
        status, _, _ = await browser.post(path, {"csrf": "x"})
        assert status == 403, path
    status, html, _ = await browser.get("/admin/")
    assert status == 200
    assert "admin link" in html


async def test_a_chat_link_signs_in_once_with_a_strict_cookie(browser: Browser, console: ConsoleBot) -> None:
    link, token = console.link()
    assert console.chat("admin").count("https://bot.example.org/admin/signin?token=") == 1
    # Opening the link (as a chat's link preview would) does not spend it.
    for _ in range(2):
        status, html, _ = await browser.get(link)
        assert status == 200
        assert "Sign in to the console" in html
    assert console.console.auth.link_state(token) == "valid"
    await browser.sign_in(link)
    cookie = next(h for h in browser.last_set_cookie if h.startswith("hoc_admin="))
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"):
        assert attribute.lower() in cookie.lower(), cookie
    status, html, _ = await browser.get("/admin/progress")
    assert status == 200
    assert "Steps of the plan done" in html
    # Used: refused on opening and on posting, in a fresh browser too.
    other = Browser(browser.client)
    status, html, _ = await other.get(link)
    assert status == 403
    assert "already used" in html
    status, _, _ = await other.post("/admin/signin", {"token": token, "csrf": "whatever"})
    assert status == 403
    assert "hoc_admin" not in other.cookies


async def test_an_expired_link_is_refused(browser: Browser, console: ConsoleBot) -> None:
    link, token = console.link()
    console.clock.advance(minutes=10, seconds=1)
    status, html, _ = await browser.get(link)
    assert status == 403
    assert "expired" in html
    assert console.console.auth.redeem(token) is None


async def test_a_reused_token_gives_one_session_only(console: ConsoleBot) -> None:
    _, token = console.link()
    assert console.console.auth.redeem(token) is not None
    assert console.console.auth.redeem(token) is None
    assert console.console.auth.live_sessions() == 1


async def test_the_sign_in_form_needs_the_token_of_the_browser_that_opened_it(
    browser: Browser, console: ConsoleBot
) -> None:
    link, token = console.link()
    status, html, _ = await browser.get(link)
    csrf = browser.csrf(html)
    browser.cookies.pop("hoc_admin_signin")
    status, _, _ = await browser.post("/admin/signin", {"token": token, "csrf": csrf})
    assert status == 403
    await browser.get(link)
    status, _, _ = await browser.post("/admin/signin", {"token": token, "csrf": "0" * 64})
    assert status == 403
    assert console.console.auth.link_state(token) == "valid"


async def test_forged_cookies_are_refused(browser: Browser, console: ConsoleBot) -> None:
    for value in ("forged", "A" * 43, "x" * 500):
        browser.cookies["hoc_admin"] = value
        status, _, headers = await browser.get("/admin/progress")
        assert status == 303
        assert headers["Location"] == "/admin/"


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(browser: Browser, console: ConsoleBot) -> None:
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/progress")
    cookie = browser.cookies["hoc_admin"]
    for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}):
        status, _, _ = await browser.post("/admin/signout", data)
        assert status == 403
        assert (await browser.get("/admin/progress"))[0] == 200
    status, _, headers = await browser.post("/admin/signout", {"csrf": browser.csrf(html)})
    assert status == 303
    assert headers["Location"] == "/admin/"
    assert "hoc_admin" not in browser.cookies
    browser.cookies["hoc_admin"] = cookie  # kept by someone: revoked on the server all the same
    assert (await browser.get("/admin/progress"))[0] == 303


async def test_sessions_expire_when_idle_and_after_eight_hours(browser: Browser, console: ConsoleBot) -> None:
    await browser.sign_in(console.link()[0])
    console.clock.advance(minutes=59)
    assert (await browser.get("/admin/progress"))[0] == 200
    console.clock.advance(minutes=61)
    assert (await browser.get("/admin/progress"))[0] == 303
    await browser.sign_in(console.link()[0])
    for _ in range(15):
        console.clock.advance(minutes=30)
        assert (await browser.get("/admin/review"))[0] == 200
    console.clock.advance(minutes=31)
    assert (await browser.get("/admin/review"))[0] == 303


async def test_only_admins_get_links_and_keep_sessions(browser: Browser, console: ConsoleBot) -> None:
    answer = console.chat("admin", user="someone")
    assert "reserved" in answer
    assert "token" not in answer
    await browser.sign_in(console.link()[0])
    console.console.admins = frozenset()  # removed from HOC_ADMINS
    assert (await browser.get("/admin/progress"))[0] == 303


async def test_without_a_public_url_the_link_says_what_is_missing(sql_store: SqlStore) -> None:
    answer = ConsoleBot(sql_store, env={"HOC_PUBLIC_URL": ""}).chat("admin")
    assert "HOC_PUBLIC_URL" in answer
    assert "\n/admin/signin?token=" in answer


async def test_every_response_has_the_security_headers(browser: Browser) -> None:
    for path in ("/admin/", "/admin/progress", "/admin/signin?token=nope"):
        _, _, headers = await browser.get(path)
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------------------------------- what they show
async def test_progress_shows_counts_and_no_coordinator(browser: Browser, console: ConsoleBot) -> None:
    seed(console.store, console.clock.now().date())
    await browser.sign_in(console.link()[0])
    status, html, _ = await browser.get("/admin/progress")
    assert status == 200
    assert SECRET_USER not in html
    assert "U2" not in html
    assert "6 coordinators" in html  # the five seeded and the admin, who talked to the bot
    assert html.count("<svg") == 5
    assert html.count("<table") == 5
    assert 'role="img"' in html
    status, body, headers = await browser.get("/admin/progress.csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    assert SECRET_USER not in body
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    table = {row[0]: row[1:] for row in rows if row}
    assert table["Step 1"] == ["4", "67%"]
    assert table["Step 3"] == ["2", "33%"]
    assert table["All five steps"] == ["1", "17%"]
    assert table["sent"] == ["3"]
    assert table["failed"] == ["1"]
    assert table["waiting to be sent"] == ["2"]
    assert table["coordinators with reminders paused"] == ["1"]
    assert next(r for r in rows if r and r[0].startswith("Week of") and r[2] == "upcoming")[1] == "2"
    assert next(r for r in rows if r and r[0].startswith("Week of") and r[2] == "past")[1] == "1"
    totals = [r for r in rows if r and r[0] == "Total"]
    assert totals[-1] == ["Total", "4", "2", "67%"]


async def test_progress_filters_by_platform_and_language(browser: Browser, console: ConsoleBot) -> None:
    seed(console.store, console.clock.now().date())
    await browser.sign_in(console.link()[0])
    _, body, _ = await browser.get("/admin/progress.csv?platform=slack&language=fr")
    table = {row[0]: row[1:] for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) if row}
    assert table["Step 1"] == ["2", "100%"]  # slack fr and fr-CA
    assert table["Step 5"] == ["1", "50%"]
    assert table["sent"] == ["2"]
    assert table["failed"] == ["0"]
    _, html, _ = await browser.get("/admin/progress?platform=telegram")
    assert "2 coordinators" in html
    assert '<option value="telegram" selected>' in html
    _, html, _ = await browser.get("/admin/progress?platform=nowhere")  # not a choice: ignored
    assert "6 coordinators" in html


async def test_questions_per_day_follow_the_language_filter(browser: Browser, console: ConsoleBot) -> None:
    today = console.clock.now().date()
    seed(console.store, today)  # six questions of no known language
    now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC)
    console.store.log_question("slack", "answer", "signup", None, now, lang="fr")
    console.store.log_question("telegram", "fallback", None, "q fr", now, lang="fr-CA")
    console.store.log_question("telegram", "answer", "signup", None, now, lang="ar")
    await browser.sign_in(console.link()[0])

    def totals(body: str) -> list[str]:
        return [r for r in csv.reader(io.StringIO(body.lstrip("\ufeff"))) if r and r[0] == "Total"][-1]

    assert totals((await browser.get("/admin/progress.csv"))[1]) == ["Total", "6", "3", "67%"]
    assert totals((await browser.get("/admin/progress.csv?language=fr"))[1]) == ["Total", "1", "1", "50%"]
    assert totals((await browser.get("/admin/progress.csv?language=ar"))[1]) == ["Total", "1", "0", "100%"]
    assert totals((await browser.get("/admin/progress.csv?language=fr&platform=slack"))[1]) == [
        "Total",
        "1",
        "0",
        "100%",
    ]
    _, html, _ = await browser.get("/admin/progress?language=fr")
    assert "keeps no language" not in html


async def test_review_has_its_page_behind_the_sign_in(browser: Browser, console: ConsoleBot) -> None:
    await browser.sign_in(console.link()[0])
    status, html, _ = await browser.get("/admin/review")
    assert status == 200
    assert "<h1>Review of questions</h1>" in html
    assert "No question is waiting for review." in html
    assert 'aria-current="page"' in html


# ---------------------------------------------------------------------------------------- languages
async def test_language_from_the_browser_then_from_the_menu(browser: Browser, console: ConsoleBot) -> None:
    _, html, _ = await browser.get("/admin/", headers={"Accept-Language": "de-CH, fr;q=0.9"})
    assert '<html lang="de" dir="ltr">' in html
    _, html, _ = await browser.get("/admin/", headers={"Accept-Language": "xx, fr;q=0.5, en;q=0.1"})
    assert '<html lang="fr" dir="ltr">' in html
    assert "Se connecter" in html
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/progress?lang=ar")
    assert '<html lang="ar" dir="rtl">' in html
    _, html, _ = await browser.get("/admin/progress", headers={"Accept-Language": "en"})
    assert '<html lang="ar" dir="rtl">' in html  # kept in the session


async def test_dates_and_numbers_follow_the_language(browser: Browser, console: ConsoleBot) -> None:
    seed(console.store, console.clock.now().date())
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/progress?lang=fr")
    assert "67\u00a0%" in html
    assert "vendredi 20 novembre 2026" in html
    _, html, _ = await browser.get("/admin/progress?lang=tr")
    assert "%67" in html


def test_hoc_bot_admin_link_prints_a_working_link(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.admin.auth import AdminAuth
    from bot.cli import main
    from bot.store.engine import open_store

    env = {"HOC_DB": str(tmp_path / "hoc.sqlite3"), "HOC_PUBLIC_URL": "https://bot.example.org/"}
    out, err = io.StringIO(), io.StringIO()
    assert main(["admin", "link"], env=env, stdout=out, stderr=err) == 0
    url = out.getvalue().strip()
    assert url.startswith("https://bot.example.org/admin/signin?token=")
    assert "10 minutes" in err.getvalue()
    store = open_store(f"sqlite:///{tmp_path / 'hoc.sqlite3'}")
    auth = AdminAuth.from_env(store.engine, env, lambda: dt.datetime.now(dt.UTC))
    assert auth.link_state(url.rpartition("=")[2]) == "valid"
    store.close()


def test_jinja2_is_imported_on_the_first_console_request_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    script = f"""
import asyncio, sys
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from bot.admin.web import build_console, mount
from bot.app import build_bot
from bot.config import Settings
from bot.store.engine import open_store
from bot.web import create_app

store = open_store("sqlite:///{tmp_path / "hoc.sqlite3"}")
bot = build_bot(Settings.from_env({{}}), store=store)
app = create_app([])
mount(app, build_console(store, bot.catalogs, {{}}, bot.handler.clock.now))
print("before", "jinja2" in sys.modules)

async def main():
    async with TestClient(TestServer(app)) as client:
        async with client.get("/admin/") as response:
            assert response.status == 200
    print("after", "jinja2" in sys.modules)

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split("\n")[:2] == ["before False", "after True"], out
