"""The review page in Chromium: sign in from a chat link, assign ten groups, apply, see the outcome, ask again.

The console is served over HTTP on 127.0.0.1 with a bot on a SQLite file and a copy of the shipped
knowledge base in a temporary directory (HOC_KNOWLEDGE_DIR); the questions are the ones written for
the review's tests (tests/integration/test_review.py), asked through the bot's real handler. After
the apply, the same running bot and a fresh ``hoc-bot ask`` (a subprocess on the same directory) answer
them. The time from opening the chat link to the outcome page is printed (run with ``-s``) and written
next to the screenshots (``review-timing.txt``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.core.messages import IncomingMessage
from bot.knowledge import default_kb_dir
from bot.store.engine import open_store
from tests.auxil.console import ConsoleBot, ServedConsole
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_console_browser import axe, follow, navigates, shot
from tests.integration.test_review import ASSIGNED, OFF_TOPIC

#: Longest an apply may take here (retraining and two evaluations take about a minute on 2 cores).
APPLY_LIMIT = 300


class ReviewSite:
    """The served console, its bot, and the knowledge copy it edits."""

    def __init__(self, console: ConsoleBot, served: ServedConsole, kb_dir: Path) -> None:
        self.console = console
        self.served = served
        self.kb_dir = kb_dir

    def ask(self, text: str, lang: str, user: str) -> str:
        """The running bot's answer: the entry, else the kind of reply."""
        chat = f"{user}-{lang}"
        reply = self.console.bot.handler.handle(IncomingMessage("console", chat, text, chat=chat, locale_hint=lang))[-1]
        return reply.topic if reply.kind == "answer" and reply.topic else reply.kind

    def hoc_bot_ask(self, questions: list[str], lang: str) -> list[dict[str, Any]]:
        """``hoc-bot ask --json`` in a new process on the same knowledge directory."""
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "--lang", lang],
            input="\n".join(questions) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={**_environ(), "HOC_KNOWLEDGE_DIR": str(self.kb_dir)},
        )
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("HOC_")}


@pytest.fixture(scope="module")
def review_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewSite]:
    root = tmp_path_factory.mktemp("review")
    kb_dir = root / "knowledge"
    shutil.copytree(default_kb_dir(), kb_dir)
    store = open_store(f"sqlite:///{root / 'hoc.sqlite3'}")
    console = ConsoleBot(store, env={"HOC_KNOWLEDGE_DIR": str(kb_dir)})
    served = ServedConsole(console.app()).start()
    site = ReviewSite(console, served, kb_dir)
    for lang, _, first, second in ASSIGNED:
        assert site.ask(first, lang, "a") == "fallback", first
        assert site.ask(second, lang, "b") == "fallback", second
    lang, question = OFF_TOPIC
    assert site.ask(question, lang, "a") == "clarify"
    try:
        yield site
    finally:
        served.stop()
        store.close()


def sign_in_from_chat(driver: Any, site: ReviewSite) -> None:
    """Type ``admin`` in the chat, open the link it gives, press the sign-in button."""
    answer = site.console.chat("admin")
    link = answer[answer.index("/admin/signin?token=") :].split()[0]
    driver.get(site.served.base + link)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    assert driver.current_url == site.served.base + "/admin/progress"


def group_select(driver: Any, *wordings: str) -> Select:
    """The choice of the group shown under one of ``wordings``."""
    for fieldset in driver.find_elements(By.CSS_SELECTOR, "fieldset.group"):
        legend = fieldset.find_element(By.TAG_NAME, "legend").text.strip("“”")
        if legend in wordings:
            return Select(fieldset.find_element(By.TAG_NAME, "select"))
    raise AssertionError(f"no group for {wordings}")


def wait_for_outcome(driver: Any) -> None:
    WebDriverWait(driver, APPLY_LIMIT, poll_frequency=0.5).until(
        lambda d: "/admin/review/jobs/" in d.current_url and "Applying the review" not in d.title
    )


def test_the_review_page_by_keyboard_only_and_axe(fresh: Any, review_site: ReviewSite) -> None:
    sign_in_from_chat(fresh, review_site)
    fresh.get(review_site.served.base + "/admin/review")
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Review of questions"
    assert len(fresh.find_elements(By.CSS_SELECTOR, "fieldset.group")) == len(ASSIGNED) + 1
    shot(fresh, "review")
    assert axe(fresh) == []
    # Every control has a label; each group is a fieldset with its legend.
    for control in fresh.find_elements(By.CSS_SELECTOR, "main select"):
        assert fresh.find_elements(By.CSS_SELECTOR, f"label[for='{control.get_attribute('id')}']")
    assert all(f.find_element(By.TAG_NAME, "legend").text for f in fresh.find_elements(By.CSS_SELECTOR, "fieldset"))
    seen = []
    for _ in range(80):
        fresh.switch_to.active_element.send_keys(Keys.TAB)
        element = fresh.switch_to.active_element
        if element.tag_name == "body":
            break
        assert element.value_of_css_property("outline-style") != "none", element.get_attribute("outerHTML")[:80]
        seen.append(element.get_attribute("id") or element.text)
        if element.text == "Apply the choices":
            break
    decisions = [s for s in seen if s.startswith("d-")]
    assert len(decisions) == len(ASSIGNED) + 1, seen
    assert seen.index("f-language") < seen.index(decisions[0])
    assert seen[-1] == "Apply the choices"
    # Enter on the button with nothing chosen: the form comes back with an alert, nothing applied.
    navigates(fresh, lambda: fresh.switch_to.active_element.send_keys(Keys.ENTER))
    assert "at least one group" in fresh.find_element(By.CSS_SELECTOR, "[role=alert]").text
    # The language filter, by keyboard too.
    fresh.find_element(By.ID, "f-language").send_keys("Français")
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    assert "language=fr" in fresh.current_url
    langs = {
        f.find_element(By.CSS_SELECTOR, "legend span").get_attribute("lang")
        for f in fresh.find_elements(By.CSS_SELECTOR, "fieldset.group")
    }
    assert langs == {"fr"}
    shot(fresh, "review-fr-filter")


def test_ten_groups_assigned_from_a_chat_link_are_answered_right_after(fresh: Any, review_site: ReviewSite) -> None:
    started = time.perf_counter()
    sign_in_from_chat(fresh, review_site)
    follow(fresh, fresh.find_element(By.LINK_TEXT, "Review"))
    for _, entry, first, second in ASSIGNED:
        group_select(fresh, first, second).select_by_value(entry)
    chosen = time.perf_counter()
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "form.review button[type=submit]"))
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Applying the review"
    assert fresh.find_element(By.CSS_SELECTOR, "[role=status]").text
    shot(fresh, "review-running")
    wait_for_outcome(fresh)
    finished = time.perf_counter()
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Applied: the bot answers with the new examples now"
    # The running bot, reloaded without a restart, answers all twenty wordings with their entry.
    answers = {(lang, text): review_site.ask(text, lang, "after") for lang, _, a, b in ASSIGNED for text in (a, b)}
    answered = time.perf_counter()
    assert answers == {(lang, text): entry for lang, entry, a, b in ASSIGNED for text in (a, b)}
    # Before/after per language, and the diff with every question added.
    rows = fresh.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-accuracy] tbody tr")
    assert {r.find_element(By.TAG_NAME, "th").text for r in rows} >= {"English", "Français", "Deutsch", "Español"}
    headers = [h.text for h in fresh.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-accuracy] thead th")]
    assert headers[2:4] == ["Right before", "Right after"]
    added = [s.text for s in fresh.find_elements(By.CSS_SELECTOR, ".diff span.add")]
    for _, _, first, second in ASSIGNED:
        assert f"+  - {first}" in added
        assert f"+  - {second}" in added
    shot(fresh, "review-outcome")
    assert axe(fresh) == []
    # A new `hoc-bot ask` on the same directory answers them too.
    by_lang: dict[str, list[tuple[str, str]]] = {}
    for lang, entry, first, second in ASSIGNED:
        by_lang.setdefault(lang, []).extend([(first, entry), (second, entry)])
    for lang, items in by_lang.items():
        records = review_site.hoc_bot_ask([q for q, _ in items], lang)
        assert [(r["decision"], r["topic"]) for r in records] == [("answer", e) for _, e in items], lang
    timing = (
        f"chat link to outcome page: {finished - started:.1f} s "
        f"(choosing ten groups {chosen - started:.1f} s, apply {finished - chosen:.1f} s); "
        f"twenty wordings answered by the running bot {answered - finished:.2f} s later\n"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "review-timing.txt").write_text(timing, encoding="utf-8")
    print(timing)


def test_a_group_marked_off_topic_then_falls_back(fresh: Any, review_site: ReviewSite) -> None:
    lang, question = OFF_TOPIC
    sign_in_from_chat(fresh, review_site)
    fresh.get(review_site.served.base + "/admin/review")
    group_select(fresh, question).select_by_value("offtopic")
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "form.review button[type=submit]"))
    wait_for_outcome(fresh)
    assert fresh.find_element(By.TAG_NAME, "h1").text.startswith("Applied")
    follow(fresh, fresh.find_element(By.LINK_TEXT, "Back to the review"))
    assert question not in fresh.page_source
    shot(fresh, "review-after-off-topic")
    # Asked again, it falls back (and, not answered, it is logged for review again).
    assert review_site.ask(question, lang, "later") == "fallback"
    [record] = review_site.hoc_bot_ask([question], lang)
    assert record["decision"] == "fallback"
