"""Two worker processes on one PostgreSQL database: each reminder delivered once, none lost on a crash.

The guarantee under test (see bot/reminders/runner.py): delivery is at least once. Without crashes
every reminder is delivered exactly once. When a worker is killed, reminders it had claimed come
back after their lease expires and are delivered by another worker; the only ones delivered twice
are those the dead worker had sent but not yet marked sent: at most one, as a worker sends one at
a time.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.store.engine import open_store
from bot.store.schema import reminders, users

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "auxil" / "reminder_worker.py"


def seed(url: str, count: int, n_users: int = 100) -> list[int]:
    """Insert ``count`` due reminders spread over ``n_users`` users; returns their ids."""
    store = open_store(url)
    # Due a minute ago by the real clock the workers use (older than 36 h would be dropped).
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
            uids = list(conn.scalars(select(users.c.id).order_by(users.c.id)))
            conn.execute(
                insert(reminders),
                [
                    {
                        "user_id": uids[i % n_users],
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
            return list(conn.scalars(select(reminders.c.id)))
    finally:
        store.close()


def spawn(url: str, name: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with (out.parent / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(WORKER), url, "--worker-id", name, "--out", str(out), *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def delivered(path: Path) -> list[int]:
    """Ids in the order delivered; a line cut short by a kill would not end in a newline."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.split("\n")
    return [int(line) for line in lines[:-1]]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def statuses(url: str) -> Counter[str]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(reminders.c.status, func.count()).group_by(reminders.c.status)).all()
        return Counter({status: n for status, n in rows})
    finally:
        store.close()


def log_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text(errors="replace")


def test_two_workers_deliver_10000_reminders_exactly_once(pg_schema_url: str, tmp_path: Path) -> None:
    ids = seed(pg_schema_url, 10_000)
    outs = {name: tmp_path / f"{name}.ids" for name in ("a", "b")}
    procs = {name: spawn(pg_schema_url, name, out, "--batch", "100", "--lease", "60") for name, out in outs.items()}
    for name, proc in procs.items():
        assert proc.wait(timeout=50) == 0, log_of(tmp_path, name)
    got = {name: delivered(out) for name, out in outs.items()}
    assert Counter(got["a"] + got["b"]) == Counter(ids)  # every id, each exactly once
    assert got["a"]
    assert got["b"]  # both workers took part
    assert statuses(pg_schema_url) == Counter({"sent": 10_000})


def test_killed_worker_loses_nothing_and_doubles_only_its_send_in_flight(pg_schema_url: str, tmp_path: Path) -> None:
    ids = seed(pg_schema_url, 3_000)
    batch, stall_after, lease = 100, 250, "2"
    victim_out, survivor_out = tmp_path / "victim.ids", tmp_path / "survivor.ids"
    victim = spawn(
        pg_schema_url,
        "victim",
        victim_out,
        "--batch",
        str(batch),
        "--lease",
        lease,
        "--stall-after",
        str(stall_after),
    )
    survivor = None
    try:
        # The victim sends 250, then records the 251st and hangs inside that send: mid-batch.
        stalled = victim_out.with_suffix(".stalled")
        wait_for(stalled.exists, 30, "the victim to stall")
        in_flight = int(stalled.read_text())
        store = open_store(pg_schema_url)
        with store.engine.connect() as conn:
            held = conn.scalar(
                select(func.count()).where(reminders.c.lease_owner == "victim", reminders.c.status == "pending")
            )
        store.close()
        assert held == batch - stall_after % batch  # the send in flight and the 49 after it

        survivor = spawn(pg_schema_url, "survivor", survivor_out, "--batch", str(batch), "--lease", lease)
        wait_for(lambda: len(delivered(survivor_out)) > 0, 30, "the survivor to start delivering")
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert survivor.wait(timeout=40) == 0, log_of(tmp_path, "survivor")
    finally:
        for proc in (victim, survivor):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    by_victim, by_survivor = delivered(victim_out), delivered(survivor_out)
    assert len(by_victim) == stall_after + 1
    assert by_victim[-1] == in_flight
    counts = Counter(by_victim + by_survivor)
    assert set(counts) == set(ids)  # nothing lost
    doubled = {rid for rid, n in counts.items() if n > 1}
    assert doubled == {in_flight}  # only the killed worker's send in flight, and only twice
    assert counts[in_flight] == 2
    assert statuses(pg_schema_url) == Counter({"sent": 3_000})
