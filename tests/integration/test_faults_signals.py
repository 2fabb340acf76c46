"""SIGTERM on the real processes: a ``hoc-bot worker`` mid-send and ``hoc-bot run`` with a Slack reply in flight.

The fake platforms run in the test's event loop; the bot runs in subprocesses pointed at them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.core.ports import UserKey
from bot.store.engine import open_store
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery
from tests.auxil.fake_telegram_api import FakeTelegramAPI
from tests.integration.test_cli import _env
from tests.integration.test_slack import dm, text_of

STARTUP_S = 30.0
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test_single"
TEAM = "T0001"
USER = "U0001"
#: Time for a delivered SIGTERM to reach the worker's loop before its in-flight send is answered.
SIGNAL_GRACE_S = 0.5


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_schema_url"
    url: str = request.getfixturevalue(fixture)
    return url


@asynccontextmanager
async def hoc_bot(
    tmp_path: Path, name: str, *args: str, env: Mapping[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m bot <args>`` in a subprocess, its output in ``tmp_path/<name>.log``; killed if still running."""
    log = (tmp_path / f"{name}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        env=_env(tmp_path / "unused.sqlite3", env),
        cwd=tmp_path,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def _exit_code(proc: asyncio.subprocess.Process, within: float = 30.0) -> int:
    return await asyncio.wait_for(proc.wait(), within)


# ======================================================================================= worker
async def test_sigterm_on_a_worker_finishes_the_send_in_flight_and_releases_the_rest(
    db_url: str, tmp_path: Path
) -> None:
    store = open_store(db_url)
    now = dt.datetime.now(dt.UTC)
    ids = [
        store.add_reminder(
            UserKey("telegram", "", str(5000 + i)), str(5000 + i), 2, now - dt.timedelta(minutes=10 - i)
        ).id
        for i in range(5)
    ]
    async with FakeTelegramAPI() as api:
        env = {
            "DATABASE_URL": db_url,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
            "PTB_TIMEDELTA": "true",
        }
        gate = api.hold_method("sendMessage")
        async with hoc_bot(tmp_path, "worker1", "worker", env=env) as first:
            await api.wait_arrived("sendMessage", 1, timeout=STARTUP_S)  # the first reminder is on the wire
            first.send_signal(signal.SIGTERM)
            await asyncio.sleep(SIGNAL_GRACE_S)
            gate.set()
            assert await _exit_code(first) == 0

        [delivered] = api.sent("sendMessage")
        assert delivered.params["chat_id"] == 5000
        rows = {r.id: r for r in store.list_reminders(None, status=None)}
        assert (rows[ids[0]].status, rows[ids[0]].attempts, rows[ids[0]].lease_until) == ("sent", 1, None)
        for rid in ids[1:]:
            # Claimed in the same batch, then given back untouched: free for the next worker at once.
            assert (rows[rid].status, rows[rid].attempts, rows[rid].lease_until) == ("pending", 1, None)
            assert rows[rid].last_error == "worker stopped before sending"

        async with hoc_bot(tmp_path, "worker2", "worker", env=env) as second:
            await api.wait_for("sendMessage", 5, timeout=STARTUP_S)
            second.send_signal(signal.SIGTERM)
            assert await _exit_code(second) == 0

    chats = sorted(c.params["chat_id"] for c in api.sent("sendMessage"))
    assert chats == [5000 + i for i in range(5)]  # none lost, none twice
    assert all(c.text.startswith("Rappel") for c in api.sent("sendMessage"))
    rows = {r.id: r for r in store.list_reminders(None, status=None)}
    assert {r.status for r in rows.values()} == {"sent"}
    assert [rows[i].attempts for i in ids] == [1, 2, 2, 2, 2]
    store.close()
    for name in ("worker1", "worker2"):
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")


# ========================================================================================== run
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def test_sigterm_on_run_delivers_the_slack_reply_in_flight_before_exiting(tmp_path: Path) -> None:
    api = await FakeSlackApi().start()
    api.add_workspace(TEAM, TOKEN, bot_user="UBOT1")
    api.add_user(USER, TEAM, locale="fr-FR", tz="Europe/Paris")
    db = tmp_path / "run.sqlite3"
    port = _free_port()
    env = {
        "HOC_DB": str(db),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.api_url,
    }
    try:
        async with hoc_bot(tmp_path, "run", "run", "--host", "127.0.0.1", "--port", str(port), env=env) as proc:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + STARTUP_S
            while not await _accepts(port):
                assert proc.returncode is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, "hoc-bot run did not start listening"
                await asyncio.sleep(0.1)
            gate = api.hold("chat.postMessage")
            slack = SlackDelivery(base, SECRET)
            try:
                status, _ = await slack.event(dm("comment recruter des écoles ?", "EvSigterm1"))
            finally:
                await slack.close()
            assert status == 200  # acknowledged at once; the reply is the platform's own task
            await api.wait_arrived("chat.postMessage", 1, within=15)
            proc.send_signal(signal.SIGTERM)
            # The server stops accepting while the reply is still held at Slack's door.
            deadline = time.monotonic() + 15
            while await _accepts(port):
                assert time.monotonic() < deadline, "the server kept accepting after SIGTERM"
                await asyncio.sleep(0.05)
            assert proc.returncode is None  # still finishing the reply in flight
            assert api.calls_to("chat.postMessage", ok=True) == []
            gate.set()
            assert await _exit_code(proc) == 0
    finally:
        await api.stop()

    welcome, answer = api.calls_to("chat.postMessage", ok=True)
    assert {welcome.params["channel"], answer.params["channel"]} == {"DU0001"}
    assert "Bienvenue" in text_of(welcome)
    assert "*Étape 1 sur 5 : Recruter des écoles locales*" in text_of(answer)
    store = open_store(f"sqlite:///{db}")
    try:
        user = store.get_user(UserKey("slack", TEAM, USER))
        assert user is not None
        assert (user.welcomed, user.locale_hint) == (True, "fr-FR")
    finally:
        store.close()
    log = (tmp_path / "run.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log
    assert TOKEN not in log
