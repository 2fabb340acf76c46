"""The inbox on real processes. ``kill -9`` on ``hoc-bot run`` right after it acknowledged 300 Slack DMs and
300 Telegram updates: after a restart (SQLite), or by the other web process (PostgreSQL), every one is
answered, none twice. SIGTERM with 2,000 Telegram updates waiting: out within 35 s, the rest kept.

The fake platforms run in the test's event loop and hold every send until the process is dead, so
nothing is delivered before the kill; the sends that were waiting then fail (they never reached the
platform), as a connection cut by the kill would.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.adapters.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.store.engine import open_store
from bot.store.schema import inbox
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery
from tests.auxil.fake_telegram_api import FakeTelegramAPI, load_update, telegram_env
from tests.integration.test_faults_signals import SECRET, STARTUP_S, TEAM, TOKEN, _accepts, _free_port, hoc_bot
from tests.integration.test_slack import dm, text_of

USERS = 100
#: Each user asks these, in this order; each answer is recognised by its marker.
QUESTIONS = (
    ("comment recruter des écoles ?", "Étape 1 sur 5"),
    ("étapes", "Les cinq étapes"),
    ("aide", "Je réponds à vos questions"),
)
WEBHOOK_SECRET = "crash-test-webhook-secret_0123"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"
ANSWERED_WITHIN = 120.0


def _slack_user(n: int) -> str:
    return f"UCRASH{n:03d}"


def _telegram_chat(n: int) -> int:
    return 7_000_000 + n


def _updates() -> Iterator[dict[str, object]]:
    update_id = 900_000
    for round_ in range(len(QUESTIONS)):
        for n in range(USERS):
            update_id += 1
            chat = _telegram_chat(n)
            yield load_update(
                "text_private",
                update_id=update_id,
                **{
                    "message.text": QUESTIONS[round_][0],
                    "message.message_id": update_id,
                    "message.chat.id": chat,
                    "message.from.id": chat,
                },
            )


async def _wait_listening(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while not await _accepts(port):
        assert proc.returncode is None, f"hoc-bot run exited: see {log}"
        assert time.monotonic() < deadline, "hoc-bot run did not start listening"
        await asyncio.sleep(0.1)


async def _deliver(ports: list[int]) -> None:
    """300 signed Slack DMs and 300 Telegram updates, 20 at a time, spread over ``ports``; all acknowledged."""
    slacks = [SlackDelivery(f"http://127.0.0.1:{port}", SECRET) for port in ports]
    session = aiohttp.ClientSession()
    limit = asyncio.Semaphore(20)
    statuses: list[int] = []

    async def slack(i: int, n: int, text: str) -> None:
        async with limit:
            status, _ = await slacks[i % len(ports)].event(dm(text, f"EvCrash{i:04d}", user=_slack_user(n)))
            statuses.append(status)

    async def telegram(i: int, update: dict[str, object]) -> None:
        async with limit:
            url = f"http://127.0.0.1:{ports[i % len(ports)]}{WEBHOOK_PATH}"
            headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
            async with session.post(url, data=json.dumps(update), headers=headers) as response:
                statuses.append(response.status)

    try:
        jobs = [slack(i, n, text) for i, (text, n) in enumerate((q, n) for q, _ in QUESTIONS for n in range(USERS))]
        jobs += [telegram(i, update) for i, update in enumerate(_updates())]
        await asyncio.gather(*jobs)
    finally:
        await session.close()
        for delivery in slacks:
            await delivery.close()
    assert Counter(statuses) == {200: 2 * USERS * len(QUESTIONS)}


def _slack_answers(apis: list[FakeSlackApi]) -> Counter[tuple[str, str]]:
    seen: Counter[tuple[str, str]] = Counter()
    for call in (c for api in apis for c in api.calls_to("chat.postMessage", ok=True)):
        text = text_of(call)
        for _, marker in QUESTIONS:
            if marker in text:
                seen[(str(call.params["channel"]), marker)] += 1
    return seen


def _telegram_answers(apis: list[FakeTelegramAPI]) -> Counter[tuple[str, str]]:
    seen: Counter[tuple[str, str]] = Counter()
    for call in (c for api in apis for c in api.sent("sendMessage")):
        for _, marker in QUESTIONS:
            if marker in call.text:
                seen[(str(call.params["chat_id"]), marker)] += 1
    return seen


def _expected(channels: list[str]) -> Counter[tuple[str, str]]:
    return Counter({(channel, marker): 1 for channel in channels for _, marker in QUESTIONS})


async def _all_answered(slack_api: list[FakeSlackApi], telegram_api: list[FakeTelegramAPI]) -> None:
    want_slack = _expected([f"D{_slack_user(n)}" for n in range(USERS)])
    want_telegram = _expected([str(_telegram_chat(n)) for n in range(USERS)])
    deadline = time.monotonic() + ANSWERED_WITHIN
    while _slack_answers(slack_api) != want_slack or _telegram_answers(telegram_api) != want_telegram:
        missing = len(want_slack - _slack_answers(slack_api)) + len(want_telegram - _telegram_answers(telegram_api))
        assert time.monotonic() < deadline, f"{missing} answers missing"
        await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)  # time for a duplicate to show up
    assert _slack_answers(slack_api) == want_slack
    assert _telegram_answers(telegram_api) == want_telegram


async def _fakes() -> tuple[FakeSlackApi, FakeTelegramAPI]:
    slack_api = await FakeSlackApi().start()
    slack_api.add_workspace(TEAM, TOKEN, bot_user="UBOT1")
    for n in range(USERS):
        slack_api.add_user(_slack_user(n), TEAM, locale="fr-FR", tz="Europe/Paris")
    telegram_api = await FakeTelegramAPI().start()
    return slack_api, telegram_api


def _env(slack_api: FakeSlackApi, telegram_api: FakeTelegramAPI, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api.api_url,
        **telegram_env(
            telegram_api,
            TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ),
        "HOC_RATE_LIMIT": "0",
        **extra,
    }


async def _hold_sends(slack_api: FakeSlackApi, telegram_api: FakeTelegramAPI) -> list[asyncio.Event]:
    return [slack_api.hold("chat.postMessage"), telegram_api.hold_method("sendMessage")]


async def _fail_what_waited(slack_api: FakeSlackApi, telegram_api: FakeTelegramAPI, gates: list[asyncio.Event]) -> None:
    """The sends held when the process died never reached the platform: answer them with errors."""
    waiting_slack = slack_api.arrived_count("chat.postMessage")
    waiting_telegram = telegram_api.arrived_count("sendMessage")
    if waiting_slack:
        slack_api.fail("chat.postMessage", times=waiting_slack)
    if waiting_telegram:
        telegram_api.fail("sendMessage", 500, times=waiting_telegram)
    for gate in gates:
        gate.set()
    await asyncio.sleep(0.5)


async def test_kill_9_after_acknowledging_loses_nothing_and_answers_nothing_twice_sqlite(tmp_path: Path) -> None:
    slack_api, telegram_api = await _fakes()
    db = tmp_path / "crash.sqlite3"
    env = _env(slack_api, telegram_api, HOC_DB=str(db))
    try:
        gates = await _hold_sends(slack_api, telegram_api)
        port = _free_port()
        async with hoc_bot(tmp_path, "run1", "run", "--host", "127.0.0.1", "--port", str(port), env=env) as proc:
            await _wait_listening(port, proc, tmp_path / "run1.log")
            await _deliver([port])
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        await _fail_what_waited(slack_api, telegram_api, gates)
        port = _free_port()
        async with hoc_bot(tmp_path, "run2", "run", "--host", "127.0.0.1", "--port", str(port), env=env) as proc:
            await _wait_listening(port, proc, tmp_path / "run2.log")
            await _all_answered([slack_api], [telegram_api])
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        await slack_api.stop()
        await telegram_api.stop()
    for name in ("run1", "run2"):
        log = (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in log
        assert TOKEN not in log


@pytest.mark.postgres
async def test_kill_9_of_one_of_two_web_processes_on_postgresql_the_other_answers_for_it(
    tmp_path: Path, pg_schema_url: str
) -> None:
    # Each process has platform fakes of its own: the killed one's sends are held, the other's are not.
    (slack1, telegram1), (slack2, telegram2) = await _fakes(), await _fakes()
    env1 = _env(slack1, telegram1, DATABASE_URL=pg_schema_url, HOC_INBOX_LEASE_SECONDS="5")
    env2 = _env(slack2, telegram2, DATABASE_URL=pg_schema_url, HOC_INBOX_LEASE_SECONDS="5")
    ports = [_free_port(), _free_port()]
    args = ("run", "--host", "127.0.0.1", "--no-worker", "--port")
    try:
        gates = await _hold_sends(slack1, telegram1)
        async with (
            hoc_bot(tmp_path, "web1", *args, str(ports[0]), env=env1) as one,
            hoc_bot(tmp_path, "web2", *args, str(ports[1]), env=env2) as two,
        ):
            await _wait_listening(ports[0], one, tmp_path / "web1.log")
            await _wait_listening(ports[1], two, tmp_path / "web2.log")
            await _deliver(ports)
            one.send_signal(signal.SIGKILL)
            await one.wait()
            await _fail_what_waited(slack1, telegram1, gates)
            # web2 alone: its own events, and web1's once their leases expired.
            await _all_answered([slack1, slack2], [telegram1, telegram2])
            two.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(two.wait(), 30) == 0
    finally:
        for api in (slack1, slack2, telegram1, telegram2):
            await api.stop()
    for name in ("web1", "web2"):
        log = (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in log


async def test_sigterm_with_2000_telegram_updates_waiting_exits_in_time_and_keeps_the_rest(tmp_path: Path) -> None:
    telegram_api = await FakeTelegramAPI().start()
    db = tmp_path / "backlog.sqlite3"
    env = {
        **telegram_env(telegram_api, TELEGRAM_WEBHOOK_URL=PUBLIC_URL, TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET),
        "HOC_DB": str(db),
        "HOC_RATE_LIMIT": "0",
    }
    updates = [
        load_update(
            "text_private",
            update_id=800_000 + i,
            **{"message.message_id": i, "message.chat.id": 8_000_000 + i % 200, "message.from.id": 8_000_000 + i % 200},
        )
        for i in range(2000)
    ]
    port = _free_port()
    try:
        async with hoc_bot(tmp_path, "run", "run", "--host", "127.0.0.1", "--port", str(port), env=env) as proc:
            await _wait_listening(port, proc, tmp_path / "run.log")
            url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
            limit = asyncio.Semaphore(20)
            async with aiohttp.ClientSession() as session:

                async def post(update: dict[str, object]) -> int:
                    async with limit, session.post(url, data=json.dumps(update), headers=headers) as response:
                        return response.status

                statuses = await asyncio.gather(*(post(u) for u in updates))
            assert Counter(statuses) == {200: 2000}
            start = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 40) == 0
            took = time.monotonic() - start
    finally:
        await telegram_api.stop()
    assert took < 35, f"exited {took:.1f} s after SIGTERM"
    store = open_store(f"sqlite:///{db}")
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(inbox.c.event_key, inbox.c.done_at).where(inbox.c.platform == "telegram")).all()
    finally:
        store.close()
    assert {key for key, _ in rows} == {str(u["update_id"]) for u in updates}  # every update kept
    done = sum(1 for _, done_at in rows if done_at is not None)
    assert done < 2000  # the backlog outlived the shutdown (Telegram's 30 messages/s)...
    assert len(telegram_api.sent("sendMessage")) >= done  # ...and what is marked done was answered
    log = (tmp_path / "run.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log
