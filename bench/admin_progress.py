"""Server time of the /admin progress page with 1,000 coordinators; prints, never asserts. Target: ≤ 200 ms.

Run from the repository root: ``python -m bench.admin_progress [--coordinators N] [--requests N] [--url URL]``.
SQLite always; PostgreSQL too with ``--url`` or HOC_TEST_DATABASE_URL (a new schema, dropped afterwards).
The page goes through the real aiohttp app (console mounted as ``hoc-bot run`` mounts it) with a signed-in
session; server time is measured by a middleware around the handler, next to ``/healthz`` as a baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, insert, make_url, select, text

from bot.admin.auth import COOKIE
from bot.admin.web import build_console, mount
from bot.app import build_bot
from bot.config import Settings
from bot.store.engine import open_store
from bot.store.schema import questions, reminders, steps, users
from bot.web import create_app

PLATFORMS = (("slack", 0.5), ("telegram", 0.3), ("matrix", 0.2))
LOCALES = (("fr", 0.35), ("fr-CA", 0.05), ("en", 0.2), ("es", 0.08), ("de", 0.06), ("it", 0.05), ("pt-BR", 0.05))
LOCALES += (("nl", 0.04), ("tr", 0.04), ("ko", 0.04), ("ar", 0.04))


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def seed(store_url: str, coordinators: int, today: dt.date, rng: random.Random) -> None:
    """Coordinators spread over platforms and languages, steps done, event dates, reminders and questions."""
    store = open_store(store_url)
    now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC)
    try:
        with store.engine.begin() as conn:
            rows = []
            for i in range(coordinators):
                event = None if rng.random() < 0.3 else today + dt.timedelta(days=rng.randint(-60, 90))
                rows.append(
                    {
                        "platform": _pick(rng, PLATFORMS),
                        "workspace": "T1",
                        "platform_user": f"U{i}",
                        "chat": f"D{i}",
                        "locale_hint": _pick(rng, LOCALES),
                        "tz_chosen": False,
                        "event_date": event,
                        "reminders_enabled": rng.random() > 0.08,
                        "welcomed": True,
                        "created_at": now,
                    }
                )
            conn.execute(insert(users), rows)
            uids = list(conn.scalars(select(users.c.id)))
            done = []
            for uid in uids:
                for step in range(1, rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5)) + 1):
                    done.append({"user_id": uid, "step": step, "done_at": now})
            if done:
                conn.execute(insert(steps), done)
            statuses = ("sent", "sent", "sent", "pending", "pending", "failed", "dropped", "cancelled")
            conn.execute(
                insert(reminders),
                [
                    {
                        "user_id": uid,
                        "chat": "D",
                        "step": step,
                        "due_at": now + dt.timedelta(days=rng.randint(-30, 30)),
                        "kind": "auto",
                        "status": rng.choice(statuses),
                        "attempts": 1,
                    }
                    for uid in uids
                    for step in range(1, 6)
                ],
            )
            conn.execute(
                insert(questions),
                [
                    {
                        "platform": _pick(rng, PLATFORMS),
                        "decision": rng.choice(("answer", "answer", "answer", "clarify", "fallback")),
                        "topic": None,
                        "text": None,
                        "asked_at": now - dt.timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 600)),
                    }
                    for _ in range(coordinators * 8)
                ],
            )
    finally:
        store.close()


async def measure(url: str, requests: int, today: dt.date) -> dict[str, list[float]]:
    """Server times (ms) of the progress page, its CSV and /healthz."""
    store = open_store(url)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    env = {"HOC_ADMINS": "console:bench"}
    bot = build_bot(Settings.from_env(env), store=store)
    console = build_console(store, bot.catalogs, env, lambda: now)
    assert console is not None
    times: dict[str, list[float]] = {}

    @web.middleware
    async def timed(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return await handler(request)
        finally:
            times.setdefault(request.path, []).append((time.perf_counter() - start) * 1000)

    app = create_app([])
    app.middlewares.insert(0, timed)
    mount(app, console)
    session = console.auth.redeem(console.auth.issue_link("console::bench"))
    headers = {"Cookie": f"{COOKIE}={session}", "Accept-Language": "fr"}
    async with TestClient(TestServer(app)) as client:
        for path in ("/healthz", "/admin/progress", "/admin/progress.csv"):
            async with client.get(path, headers=headers, allow_redirects=False) as response:  # warm-up
                assert response.status == 200, (path, response.status)
                await response.read()
        times.clear()
        for n in range(requests):
            for path in ("/healthz", "/admin/progress", "/admin/progress.csv"):
                query = "?platform=slack&language=fr" if n % 2 and path != "/healthz" else ""
                async with client.get(path + query, headers=headers) as response:
                    await response.read()
    store.close()
    return times


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def report(engine: str, coordinators: int, times: dict[str, list[float]]) -> None:
    print(f"{engine}, {coordinators} coordinators:")
    for path in ("/healthz", "/admin/progress", "/admin/progress.csv"):
        values = sorted(times.get(path, []))
        p95 = values[max(0, round(len(values) * 0.95) - 1)]
        print(f"  {path:<22} median {statistics.median(values):6.1f} ms   p95 {p95:6.1f} ms   ({len(values)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coordinators", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--url", default=os.environ.get("HOC_TEST_DATABASE_URL", ""), help="PostgreSQL URL")
    args = parser.parse_args()
    today = dt.date(2026, 11, 20)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        seed(url, args.coordinators, today, random.Random(15))
        report("SQLite", args.coordinators, asyncio.run(measure(url, args.requests, today)))
    if args.url:
        with pg_schema(args.url) as url:
            seed(url, args.coordinators, today, random.Random(15))
            report("PostgreSQL", args.coordinators, asyncio.run(measure(url, args.requests, today)))


if __name__ == "__main__":
    main()
