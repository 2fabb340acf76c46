"""An admin reviewing ten unanswered questions through the /admin console, from the chat link to the answers.

    python -m bench.review_page

The console is served over HTTP on 127.0.0.1 (aiohttp, as `hoc-bot run` serves it) with a bot on a
SQLite file and a copy of knowledge/ in a temporary directory. Ten questions the shipped model falls
back on, in seven languages, are asked in two wordings each through the bot's handler. Then, timed, as
a browser would: the admin types `admin` in the chat, opens the link and signs in, opens the review
page, sends the form with the ten groups assigned, follows the job's page (it refreshes every 2 s) to
the outcome; then the same running bot is asked the twenty wordings again. Prints each part's time,
how many are answered with the assigned entry, and the evaluation figures the outcome page shows.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession

from bot.core.messages import IncomingMessage
from bot.knowledge import default_kb_dir
from bot.store.engine import open_store
from tests.auxil.console import ConsoleBot, ServedConsole
from tests.integration.test_review import ASSIGNED

GROUP = re.compile(r'<fieldset class="group" id="g-([0-9a-f]+)">\s*<legend><span[^>]*>“([^”]*)”')


def ask(console: ConsoleBot, text: str, lang: str, user: str) -> str:
    chat = f"{user}-{lang}"
    reply = console.bot.handler.handle(IncomingMessage("console", chat, text, chat=chat, locale_hint=lang))[-1]
    return reply.topic if reply.kind == "answer" and reply.topic else reply.kind


async def session_flow(console: ConsoleBot, base: str) -> tuple[dict[str, float], str]:
    """The admin's requests; the times of each part and the outcome page."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    answer = console.chat("admin")
    link = answer[answer.index("/admin/signin?token=") :].split()[0]
    cookies: dict[str, str] = {}

    def keep(response) -> None:  # type: ignore[no-untyped-def]
        for name, morsel in response.cookies.items():
            cookies[name] = morsel.value

    async with ClientSession() as http:

        async def get(path: str) -> str:
            async with http.get(base + path, cookies=cookies, allow_redirects=False) as response:
                keep(response)
                return await response.text()

        page = await get(link)
        token = re.search(r'name="token" value="([^"]+)"', page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        assert csrf
        async with http.post(
            base + "/admin/signin",
            data={"token": token.group(1), "csrf": csrf.group(1)},
            cookies=cookies,
            allow_redirects=False,
        ) as response:
            keep(response)
            assert response.status == 303
        times["sign-in from the chat link"] = time.perf_counter() - started
        page = await get("/admin/review")
        times["review page"] = time.perf_counter() - started - sum(times.values())
        keys = {html.unescape(text): key for key, text in GROUP.findall(page)}
        form = {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]
        for _, entry, first, second in ASSIGNED:
            key = keys.get(first) or keys[second]
            form[f"decision-{key}"] = entry
        async with http.post(base + "/admin/review", data=form, cookies=cookies, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            job = response.headers["Location"]
        times["form sent"] = time.perf_counter() - started - sum(times.values())
        while True:
            page = await get(job)
            if 'http-equiv="refresh"' not in page:
                break
            await asyncio.sleep(2)  # the page's own refresh interval
        times["apply (until the outcome page)"] = time.perf_counter() - started - sum(times.values())
    return times, page


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "knowledge"
        shutil.copytree(default_kb_dir(), kb_dir)
        store = open_store(f"sqlite:///{Path(tmp) / 'hoc.sqlite3'}")
        console = ConsoleBot(store, env={"HOC_KNOWLEDGE_DIR": str(kb_dir)})
        served = ServedConsole(console.app()).start()
        try:
            for lang, _, first, second in ASSIGNED:
                ask(console, first, lang, "a")
                ask(console, second, lang, "b")
            started = time.perf_counter()
            times, outcome = asyncio.run(session_flow(console, served.base))
            right = sum(
                ask(console, text, lang, "c") == entry
                for lang, entry, first, second in ASSIGNED
                for text in (first, second)
            )
            total = time.perf_counter() - started
        finally:
            served.stop()
            store.close()
    for part, seconds in times.items():
        print(f"{part}: {seconds:.2f} s")
    print(f"total, chat link to the bot answering: {total:.1f} s")
    print(f"answered with the assigned entry right after, no restart: {right} of {2 * len(ASSIGNED)}")
    title = re.search(r"<h1>(.*?)</h1>", outcome)
    print(f"outcome page: {html.unescape(title.group(1)) if title else '?'}")
    table = outcome[outcome.find('id="h-accuracy"') : outcome.find('id="h-diff"')]
    print("accuracy on the evaluation sets (right before, right after, change):")
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table):
        cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row[1])]
        print(f"  {row[0]:<10} {cells[1]:>14} {cells[2]:>14} {cells[3]:>5}")
    added = len(re.findall(r'<span class="add">\+  - ', outcome))
    print(f"diff shown: {added} example lines added")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
