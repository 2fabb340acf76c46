"""The review page of the /admin console over HTTP, through the real aiohttp app and the real engine.

Questions are asked through the console bot's real handler (the questions log on SQLite or PostgreSQL),
reviewed through the page's form, applied (real retraining in a subprocess) on a copy of the shipped
knowledge base in tmp_path, and asked again of the same Bot the console reloaded. The questions are
written for these tests (tests/integration/test_review.py), never taken from tests/fixtures/eval.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot.admin.review_apply import _Lock
from bot.core.messages import IncomingMessage
from bot.knowledge import default_kb_dir
from bot.store.sql import SqlStore
from tests.auxil.console import ConsoleBot
from tests.integration.test_admin_console import Browser
from tests.integration.test_review import ASSIGNED, OFF_TOPIC

JOB_URL = re.compile(r"^/admin/review/jobs/([0-9a-f]{32})$")
NO_JOB = "/admin/review/jobs/" + "0" * 32


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(default_kb_dir(), copy)
    return copy


@pytest.fixture
def console(sql_store: SqlStore, kb_copy: Path) -> ConsoleBot:
    return ConsoleBot(sql_store, env={"HOC_KNOWLEDGE_DIR": str(kb_copy)})


@pytest.fixture
async def browser(console: ConsoleBot) -> AsyncIterator[Browser]:
    client = TestClient(TestServer(console.app()), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        yield Browser(client)
    finally:
        await client.close()


def ask(console: ConsoleBot, text: str, lang: str, user: str) -> str:
    """The entry the bot answers ``text`` with, else the kind of reply (fallback, clarify)."""
    chat = f"{user}-{lang}"
    reply = console.bot.handler.handle(IncomingMessage("console", chat, text, chat=chat, locale_hint=lang))[-1]
    return reply.topic if reply.kind == "answer" and reply.topic else reply.kind


def group_keys(html: str) -> dict[str, str]:
    """The review page's groups: first wording -> key."""
    return {
        unescape(text): key
        for key, text in re.findall(r'<fieldset class="group" id="g-([0-9a-f]+)">\s*<legend><span[^>]*>“([^”]*)”', html)
    }


def key_for(keys: dict[str, str], *wordings: str) -> str:
    """The key of the group shown under one of ``wordings`` (the one asked most, else the first in order)."""
    [key] = {keys[w] for w in wordings if w in keys}
    return key


def snapshot(kb_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(kb_dir)): p.read_bytes() for p in sorted(kb_dir.rglob("*")) if p.is_file()}


async def finish(browser: Browser, location: str) -> str:
    """Follow a job's page until it shows the outcome (it refreshes itself meanwhile)."""
    assert JOB_URL.match(location), location
    for _ in range(1200):
        status, html, _ = await browser.get(location)
        assert status == 200
        if 'http-equiv="refresh"' not in html:
            return html
        await asyncio.sleep(0.1)
    raise AssertionError("the review job did not finish in two minutes")


# ---------------------------------------------------------------------------------------- who gets in
async def test_the_review_routes_need_a_session(browser: Browser, console: ConsoleBot, kb_copy: Path) -> None:
    lang, _, first, _ = ASSIGNED[0]
    ask(console, first, lang, "asker")
    before = snapshot(kb_copy)
    for path in ("/admin/review", NO_JOB, NO_JOB + ".patch", "/admin/review?language=en"):
        status, _, headers = await browser.get(path)
        assert status == 303, path
        assert headers["Location"] == "/admin/"
    status, html, _ = await browser.post("/admin/review", {"csrf": "x", "decision-whatever": "logistics-plan"})
    assert status == 403
    assert "session has ended" in html
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review")
    [key] = group_keys(html).values()
    for data in (
        {"decision-" + key: "logistics-plan"},
        {"csrf": "", "decision-" + key: "logistics-plan"},
        {"csrf": "0" * 64, "decision-" + key: "logistics-plan"},
    ):
        status, html, _ = await browser.post("/admin/review", data)
        assert status == 403
        assert "The form has expired" in html
    assert snapshot(kb_copy) == before
    _, html, _ = await browser.get("/admin/review")
    assert list(group_keys(html).values()) == [key]  # still waiting: nothing applied, nothing skipped


# ---------------------------------------------------------------------------------------- the page
async def test_the_page_shows_groups_with_their_details_and_filters_by_language(
    browser: Browser, console: ConsoleBot
) -> None:
    en = next(a for a in ASSIGNED if a[0] == "en")
    fr = next(a for a in ASSIGNED if a[0] == "fr")
    for n, (lang, _, first, second) in enumerate((en, fr)):
        assert ask(console, first, lang, f"a{n}") == "fallback"
        assert ask(console, second, lang, f"b{n}") == "fallback"
        assert ask(console, first, lang, f"c{n}") == "fallback"
    lang, question = OFF_TOPIC
    assert ask(console, question, lang, "clicker") == "clarify"
    ask(console, "<script>alert(1)</script> est-ce que les enfants ont besoin de casques", "fr", "mischief")
    await browser.sign_in(console.link()[0])
    status, html, _ = await browser.get("/admin/review")
    assert status == 200
    groups = group_keys(html)
    assert set(groups) >= {en[2], fr[2], question}
    assert "4 groups of questions waiting for review." in html
    assert "asked 3 times (3 not answered)" in html
    assert f'<span lang="en">“{en[3]}”</span> ×1' in html  # the other wording and its count
    assert "answered “did you mean”" in html
    assert "The matcher&#39;s guesses" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # One labelled select per group, the entries' titles in the page's language.
    for key in groups.values():
        assert f'<label for="d-{key}">' in html
        assert f'<select id="d-{key}" name="decision-{key}">' in html
    assert '<option value="logistics-plan">' in html
    _, html_fr, _ = await browser.get("/admin/review?lang=fr")
    assert "Revue des questions" in html_fr
    assert html_fr != html
    # The language filter.
    _, only_fr, _ = await browser.get("/admin/review?language=fr")
    assert set(group_keys(only_fr)) == {fr[2], "<script>alert(1)</script> est-ce que les enfants ont besoin de casques"}
    assert '<option value="fr" selected>' in only_fr
    _, ignored, _ = await browser.get("/admin/review?language=xx")
    assert set(group_keys(ignored)) == set(groups)


async def test_a_form_without_a_choice_or_with_an_unknown_entry_is_refused_and_kept(
    browser: Browser, console: ConsoleBot, kb_copy: Path
) -> None:
    for lang, _, first, _ in ASSIGNED[:2]:
        ask(console, first, lang, "asker")
    before = snapshot(kb_copy)
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review")
    csrf = browser.csrf(html)
    keys = group_keys(html)
    first_key, second_key = keys[ASSIGNED[0][2]], keys[ASSIGNED[1][2]]
    status, html, _ = await browser.post("/admin/review", {"csrf": csrf, f"decision-{first_key}": ""})
    assert status == 400
    assert 'role="alert"' in html
    assert "Choose what to do with at least one group" in html
    status, html, _ = await browser.post(
        "/admin/review",
        {"csrf": csrf, f"decision-{first_key}": "no-such-entry", f"decision-{second_key}": "offtopic"},
    )
    assert status == 400
    assert "names no entry" in html
    second_select = html[html.index(f'name="decision-{second_key}"') :]
    assert second_select.index('<option value="offtopic" selected>') < second_select.index("</select>")
    assert snapshot(kb_copy) == before


async def test_skipping_takes_groups_out_without_changing_files(
    browser: Browser, console: ConsoleBot, kb_copy: Path
) -> None:
    for lang, _, first, second in ASSIGNED[:2]:
        ask(console, first, lang, "asker")
        ask(console, second, lang, "other")
    before = snapshot(kb_copy)
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review")
    keys = group_keys(html)
    status, _, headers = await browser.post(
        "/admin/review", {"csrf": browser.csrf(html), f"decision-{key_for(keys, *ASSIGNED[0][2:])}": "skip"}
    )
    assert status == 303
    assert headers["Location"] == "/admin/review?skipped=2"
    _, html, _ = await browser.get(headers["Location"])
    assert "2 questions taken out of the queue without teaching anything." in html
    assert list(group_keys(html).values()) == [key_for(keys, *ASSIGNED[1][2:])]
    assert snapshot(kb_copy) == before


async def test_a_busy_knowledge_base_is_said_in_the_page_language_and_the_choices_are_kept(
    browser: Browser, console: ConsoleBot, kb_copy: Path
) -> None:
    lang, entry, first, _ = ASSIGNED[1]
    ask(console, first, lang, "asker")
    before = snapshot(kb_copy)
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review?lang=fr")
    [key] = group_keys(html).values()
    with _Lock(kb_copy):  # a terminal's `hoc-bot kb review` applying at the same time
        status, _, headers = await browser.post("/admin/review", {"csrf": browser.csrf(html), f"decision-{key}": entry})
        assert status == 303
        html = await finish(browser, headers["Location"])
    assert "Non appliqué : une autre revue est en cours" in html
    assert 'role="alert"' in html
    assert f'<input type="hidden" name="decision-{key}" value="{entry}">' in html
    assert snapshot(kb_copy) == before
    assert ask(console, first, lang, "later") == "fallback"
    job = JOB_URL.match(headers["Location"])
    assert job
    _, html, _ = await browser.get(f"/admin/review?job={job.group(1)}")
    select = html[html.index(f'name="decision-{key}"') :]
    assert select.index(f'<option value="{entry}" selected>') < select.index("</select>")
    status, html, _ = await browser.get(headers["Location"] + ".patch")
    assert status == 404  # nothing changed: no patch


async def test_an_unknown_job_says_so(browser: Browser, console: ConsoleBot) -> None:
    await browser.sign_in(console.link()[0])
    status, html, _ = await browser.get(NO_JOB)
    assert status == 404
    assert "This review job is not known" in html


# ---------------------------------------------------------------------------------------- applying
@pytest.mark.slow
async def test_assigning_through_the_form_makes_the_running_bot_answer(
    browser: Browser, console: ConsoleBot, kb_copy: Path, tmp_path: Path
) -> None:
    chosen = ASSIGNED[:3]
    for lang, _, first, second in chosen:
        assert ask(console, first, lang, "a") == "fallback"
        assert ask(console, second, lang, "b") == "fallback"
    pristine = snapshot(kb_copy)
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review")
    keys = group_keys(html)
    form = {"csrf": browser.csrf(html)} | {
        f"decision-{key_for(keys, first, second)}": entry for _, entry, first, second in chosen
    }
    status, _, headers = await browser.post("/admin/review", form)
    assert status == 303
    location = headers["Location"]
    _, running, _ = await browser.get(location)
    assert '<meta http-equiv="refresh"' in running
    assert 'role="status"' in running
    html = await finish(browser, location)
    assert "Applied: the bot answers with the new examples now" in html, html[-3000:]
    # The same Bot the console serves answers now, without a restart.
    for lang, entry, first, second in chosen:
        assert ask(console, first, lang, "later") == entry, first
        assert ask(console, second, lang, "later2") == entry, second
    # Counts, accuracy before and after per language (a table with headers), the diff escaped.
    assert re.search(r'<th scope="row">Examples added</th><td>6</td>', html)
    assert re.search(r'<th scope="row">Questions taken out of the queue</th><td>6</td>', html)
    accuracy = html[html.index('id="h-accuracy"') : html.index('id="h-diff"')]
    assert '<th scope="col">Right before</th>' in accuracy
    assert '<th scope="row">Français</th>' in accuracy
    assert '<th scope="row">English</th>' in accuracy
    for _, _, first, second in chosen:
        for text in (first, second):
            escaped = text.replace("'", "&#39;")
            assert f'<span class="add">+  - {escaped}</span>' in html, text
    _, html, _ = await browser.get("/admin/review")
    assert group_keys(html) == {}
    # The patch: a download, and it applies with `git apply` to the knowledge base as it was.
    status, patch, headers = await browser.get(location + ".patch")
    assert status == 200
    assert headers["Content-Type"].startswith("text/x-diff")
    assert headers["Content-Disposition"].startswith('attachment; filename="kb-review-')
    repo = tmp_path / "pristine"
    for rel, content in pristine.items():
        (repo / "knowledge" / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / "knowledge" / rel).write_bytes(content)
    (tmp_path / "review.patch").write_text(patch, encoding="utf-8")
    await asyncio.to_thread(subprocess.run, ["git", "init", "-q"], cwd=repo, check=True)
    await asyncio.to_thread(subprocess.run, ["git", "apply", str(tmp_path / "review.patch")], cwd=repo, check=True)
    for path in (kb_copy / "examples").glob("*.yaml"):
        assert (repo / "knowledge" / "examples" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow
async def test_marking_off_topic_through_the_form_makes_the_question_fall_back(
    browser: Browser, console: ConsoleBot, kb_copy: Path
) -> None:
    lang, question = OFF_TOPIC
    assert ask(console, question, lang, "asker") == "clarify"
    await browser.sign_in(console.link()[0])
    _, html, _ = await browser.get("/admin/review?language=en")
    key = group_keys(html)[question]
    status, _, headers = await browser.post(
        "/admin/review", {"csrf": browser.csrf(html), "language": "en", f"decision-{key}": "offtopic"}
    )
    assert status == 303
    html = await finish(browser, headers["Location"])
    assert "Applied" in html
    assert ask(console, question, lang, "later") == "fallback"
    offtopic = (kb_copy / "examples" / "en.yaml").read_text(encoding="utf-8").split("\nofftopic:\n")[1]
    assert f"- {question}\n" in offtopic


def test_the_review_engine_is_imported_on_the_first_review_request_only(tmp_path: Path) -> None:
    import sys

    script = f"""
import asyncio, sys
from aiohttp.test_utils import TestClient, TestServer
from bot.admin.web import build_console, mount
from bot.app import build_bot
from bot.config import Settings
from bot.store.engine import open_store
from bot.web import create_app

store = open_store("sqlite:///{tmp_path / "hoc.sqlite3"}")
bot = build_bot(Settings.from_env({{}}), store=store)
app = create_app([])
mount(app, build_console(store, bot.catalogs, {{}}, bot.handler.clock.now, kb_dir=Path, reload=bot.reload))
print("before", "bot.admin.review" in sys.modules, "bot.knowledge.curate" in sys.modules)

async def main():
    async with TestClient(TestServer(app)) as client:
        async with client.get("/admin/") as response:
            assert response.status == 200
    print("after", "bot.admin.review" in sys.modules)

asyncio.run(main())
""".replace("kb_dir=Path", f"kb_dir=__import__('pathlib').Path({str(default_kb_dir())!r})")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split("\n")[:2] == ["before False False", "after False"], out
