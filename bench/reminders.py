"""Reminders delivered per second to a no-op sender by 1 and 2 worker processes; prints, never asserts.

Run from the repository root: ``python -m bench.reminders [--count N]``. SQLite always;
PostgreSQL too when HOC_TEST_DATABASE_URL is set (each run in a new schema, dropped afterwards).
Timing starts once every worker process has started and connected, so imports are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, select, text

from bot.core.messages import Reply
from bot.core.ports import Reminder, SystemClock, UserKey
from bot.reminders import ReminderRunner
from bot.store.engine import make_engine, open_store
from bot.store.schema import reminders, users
from bot.store.sql import SqlStore


class NoopSender:
    """Accepts every message and does nothing."""

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        return None


def compose(r: Reminder) -> Reply:
    return Reply(text=f"Reminder: step {r.step}")


def seed(url: str, count: int, n_users: int = 200) -> None:
    store = open_store(url)
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(users),
                [
                    {
                        "platform": "slack",
                        "workspace": "T",
                        "platform_user": f"U{i}",
                        "chat": f"D{i}",
                        "tz_chosen": False,
                        "reminders_enabled": True,
                        "welcomed": True,
                    }
                    for i in range(n_users)
                ],
            )
            uids = list(conn.scalars(select(users.c.id)))
            conn.execute(
                insert(reminders),
                [
                    {
                        "user_id": uids[i % len(uids)],
                        "chat": "D",
                        "step": i % 5 + 1,
                        "due_at": due,
                        "kind": "auto",
                        "status": "pending",
                        "attempts": 0,
                    }
                    for i in range(count)
                ],
            )
    finally:
        store.close()


def worker(url: str, name: str, batch: int, start: Barrier, results: Queue[tuple[str, int]]) -> None:
    store = SqlStore(make_engine(url))
    runner = ReminderRunner(store, {"slack": NoopSender()}, compose, SystemClock(), worker_id=name, batch=batch)
    store.ping()  # connect before the clock starts

    async def drain() -> int:
        sent = 0
        while (stats := await runner.run_once()).claimed:
            sent += stats.sent
        return sent

    start.wait()
    results.put((name, asyncio.run(drain())))
    store.close()


def measure(url: str, count: int, workers: int, batch: int) -> tuple[float, list[int]]:
    seed(url, count)
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(workers + 1)
    results: Queue[tuple[str, int]] = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, f"w{i}", batch, start, results)) for i in range(workers)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    per_worker = [results.get(timeout=600)[1] for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return elapsed, per_worker


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(base))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000, help="reminders per run (default 5000)")
    parser.add_argument("--batch", type=int, default=100, help="reminders claimed per run_once")
    args = parser.parse_args()

    backends = [("sqlite", sqlite_db)]
    pg = os.environ.get("HOC_TEST_DATABASE_URL", "").strip()
    if pg:
        backends.append(("postgresql", lambda: pg_schema(pg)))
    else:
        print("HOC_TEST_DATABASE_URL not set: PostgreSQL skipped")

    print(f"{'backend':<11} {'workers':>7} {'reminders':>9} {'seconds':>8} {'per second':>10}  split")
    for name, database in backends:
        rates = {}
        for workers in (1, 2):
            with database() as url:
                elapsed, split = measure(url, args.count, workers, args.batch)
            rates[workers] = sum(split) / elapsed
            print(
                f"{name:<11} {workers:>7} {sum(split):>9} {elapsed:>8.2f} {rates[workers]:>10.0f}  "
                f"{'/'.join(map(str, split))}"
            )
        print(f"{name:<11} ratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
