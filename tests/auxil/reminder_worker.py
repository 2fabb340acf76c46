"""A reminder worker process for the multi-process tests: appends each delivered reminder id to a file.

Usage: python reminder_worker.py URL --worker-id A --out ids.txt [--batch N] [--lease S] [--stall-after N]

It runs a ReminderRunner on the SQL store until no reminder is pending, then exits 0. With
``--stall-after N`` it records its N+1th delivery and then hangs inside that send, so that a test
can kill it mid-batch with a send that went out but was never marked.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.core.messages import Reply
from bot.core.ports import Reminder, SystemClock, UserKey
from bot.reminders import ReminderRunner
from bot.store.engine import make_engine
from bot.store.schema import reminders
from bot.store.sql import SqlStore


class FileSender:
    """Delivers by appending ``<id>\\n`` to a file in one write, which a SIGKILL cannot split."""

    def __init__(self, path: Path, stall_after: int, stalled: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.count = 0
        self.stall_after = stall_after
        self.stalled = stalled

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        os.write(self.fd, f"{reply.meta['id']}\n".encode())
        self.count += 1
        if self.stall_after and self.count > self.stall_after:
            self.stalled.write_text(str(reply.meta["id"]))
            await asyncio.Event().wait()


def compose(r: Reminder) -> Reply:
    return Reply(text=f"reminder {r.id}", meta={"id": r.id})


async def run(args: argparse.Namespace) -> int:
    store = SqlStore(make_engine(args.url))
    sender = FileSender(args.out, args.stall_after, args.out.with_suffix(".stalled"))
    runner = ReminderRunner(
        store,
        {"slack": sender},
        compose,
        SystemClock(),
        worker_id=args.worker_id,
        batch=args.batch,
        lease=dt.timedelta(seconds=args.lease),
    )

    def pending() -> int:
        with store.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(reminders.c.status == "pending")) or 0)

    deadline = time.monotonic() + args.deadline
    try:
        while time.monotonic() < deadline:
            stats = await runner.run_once()
            if stats.claimed == 0:
                if await asyncio.to_thread(pending) == 0:
                    return 0
                await asyncio.sleep(0.05)
        print(f"{args.worker_id}: deadline reached with reminders pending", file=sys.stderr)
        return 3
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lease", type=float, default=60.0, help="seconds")
    parser.add_argument("--stall-after", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=45.0, help="seconds before giving up")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
