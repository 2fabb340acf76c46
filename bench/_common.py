"""Shared parts of the HTTP, memory and delivery benchmarks: fakes, a `hoc-bot run` process, a bounded load."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent

SLACK_TOKEN = "xoxb-test_bench"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TEAM = "T0001"
SLACK_BOT_USER = "UBOT1"
TELEGRAM_SECRET = "bench-webhook-secret_0123456789"
TELEGRAM_PUBLIC_URL = "https://bot.example.org/telegram/webhook"
TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: What coordinators type: questions in both languages, commands, and things the bot cannot answer.
QUESTIONS = (
    ("fr", "comment recruter des écoles ?"),
    ("fr", "exemple de plan logistique"),
    ("fr", "partager sur facebook"),
    ("fr", "page d'accueil du site"),
    ("fr", "organiser un événement dans le district"),
    ("fr", "après l'heure de code ?"),
    ("fr", "comment s'inscrire"),
    ("en", "how do we sign up"),
    ("en", "press kit for our event"),
    ("en", "how do I recruit schools"),
    ("en", "where is the parking"),
    ("en", "zzzz"),
)
COMMANDS = ("plan", "steps", "help", "done 1", "date 7 december", "remind tomorrow 9am step 2", "lang en")


# ---------------------------------------------------------------------------------------- statistics
def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``samples``; NaN when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------------------- processes
def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, within: float = 30.0) -> None:
    """Return once something listens on 127.0.0.1:``port``; raise after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {within:.0f} s")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of process ``pid`` in MB, from /proc/<pid>/status."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024  # kB
    return figures


def bot_env(extra: Mapping[str, str], db: Path) -> dict[str, str]:
    """The environment of a `hoc-bot run` started here: this checkout, a private database, nothing inherited."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HOC_", "SLACK_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONIOENCODING"] = "utf-8"
    env["HOC_DB"] = str(db)
    env["HOC_RATE_LIMIT"] = "0"  # the load comes from a few hundred users: the flood limit would answer it
    env.update(extra)
    return env


def platform_env(slack_api_url: str, telegram_url: str) -> dict[str, str]:
    """Both adapters in HTTP mode, their APIs answered by the fakes."""
    from tests.auxil.fake_telegram_api import TOKEN

    return {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": slack_api_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_URL": TELEGRAM_PUBLIC_URL,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": telegram_url,
    }


class BotProcess:
    """``hoc-bot run`` (as ``python -m bot run``) on a free port of 127.0.0.1, its log in a temporary file.

    The database is migrated first by ``hoc-bot db upgrade``, as the release step of a deployment
    does (see the Procfile), so that the server finds it up to date.
    """

    def __init__(self, extra_env: Mapping[str, str], python: str | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="hoc-bench-")
        python = python or sys.executable
        tmp = Path(self._tmp.name)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "run.log"
        self._log = self.log_path.open("w")
        env = bot_env(extra_env, tmp / "bench.sqlite3")
        subprocess.run(
            [python, "-m", "bot", "db", "upgrade"], stdout=self._log, stderr=subprocess.STDOUT, env=env, check=True
        )
        self.command = [python, "-m", "bot", "run", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=tmp)

    async def ready(self, within: float = 60.0) -> None:
        """Wait for ``/readyz`` to answer 200 (database up, knowledge base loaded, platforms started)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hoc-bot run exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    async with session.get(self.base + "/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"hoc-bot run not ready after {within:.0f} s:\n{self.log_tail()}")

    async def handled(self, session: aiohttp.ClientSession) -> Counter[str]:
        """Messages handled so far by platform (the ``hoc_messages_total`` counter of ``/metrics``)."""
        async with session.get(self.base + "/metrics") as response:
            text = await response.text()
        counts: Counter[str] = Counter()
        for match in re.finditer(r"^hoc_messages_total\{([^}]*)\} ([0-9.e+]+)$", text, re.MULTILINE):
            platform = re.search(r'platform="([^"]*)"', match.group(1))
            if platform:
                counts[platform.group(1)] += int(float(match.group(2)))
        return counts

    def memory(self) -> dict[str, float]:
        """Current and peak RSS in MB."""
        return memory_mb(self.proc.pid)

    async def gauge(self, session: aiohttp.ClientSession, name: str) -> float:
        """The value of an unlabelled gauge of ``/metrics`` (NaN when absent)."""
        async with session.get(self.base + "/metrics") as response:
            text = await response.text()
        found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else float("nan")

    def log_levels(self) -> Counter[str]:
        """JSON log lines by level (warning and error lines point at trouble during the run)."""
        levels: Counter[str] = Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                levels[str(json.loads(line).get("level"))] += 1
            except (ValueError, AttributeError):
                levels["text"] += 1
        return levels

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 30 s); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._log.close()
        self._tmp.cleanup()
        return code


# ---------------------------------------------------------------------------------------- fakes
async def _serve_fakes(conn: Connection, slack_users: Sequence[tuple[str, str, str]]) -> None:
    from tests.auxil.fake_slack_api import FakeSlackApi
    from tests.auxil.fake_telegram_api import FakeTelegramAPI

    slack = await FakeSlackApi().start()
    slack.add_workspace(SLACK_TEAM, SLACK_TOKEN, bot_user=SLACK_BOT_USER)
    for user, locale, tz in slack_users:
        slack.add_user(user, SLACK_TEAM, locale=locale, tz=tz)
    telegram = await FakeTelegramAPI().start()
    conn.send({"slack_api_url": slack.api_url, "telegram_url": telegram.url})
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command != "stats":
            break
        posts = slack.calls_to("chat.postMessage", ok=True)
        sends = telegram.sent("sendMessage")
        conn.send(
            {
                "slack_posts": len(posts),
                "slack_last": max((c.at for c in posts), default=None),
                "slack_by_channel": Counter(str(c.params.get("channel")) for c in posts),
                "slack_calls": Counter(c.method for c in slack.calls),
                "telegram_sends": len(sends),
                "telegram_last": max((c.at for c in sends), default=None),
                "telegram_by_chat": Counter(str(c.params.get("chat_id")) for c in sends),
                "telegram_calls": Counter(c.method for c in telegram.calls),
            }
        )
    await telegram.stop()
    await slack.stop()


def _fakes_main(conn: Connection, slack_users: Sequence[tuple[str, str, str]]) -> None:
    asyncio.run(_serve_fakes(conn, slack_users))


class FakesProcess:
    """The fake Slack Web API and Telegram Bot API in a process of their own, so that answering the
    bot's replies does not slow down the load generator measuring acknowledgements."""

    def __init__(self, slack_users: Sequence[tuple[str, str, str]]) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_fakes_main, args=(child, list(slack_users)), daemon=True)
        self.proc.start()
        if not self._conn.poll(60):
            raise RuntimeError("the fakes did not start")
        urls = self._conn.recv()
        self.slack_api_url: str = urls["slack_api_url"]
        self.telegram_url: str = urls["telegram_url"]

    def stats(self) -> dict[str, Any]:
        """What the fakes received so far (``*_last`` are ``time.monotonic()`` values, shared by processes)."""
        self._conn.send("stats")
        stats: dict[str, Any] = self._conn.recv()
        return stats

    def stop(self) -> None:
        self._conn.send("stop")
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()


def slack_users(count: int) -> list[tuple[str, str, str]]:
    """``count`` Slack users (id, locale, time zone), French and English speakers alternating."""
    profiles = (("fr-FR", "Europe/Paris"), ("en-US", "America/New_York"), ("fr-CA", "America/Toronto"))
    return [(f"U{i:06d}", *profiles[i % len(profiles)]) for i in range(count)]


# ---------------------------------------------------------------------------------------- requests
@dataclass(frozen=True, slots=True)
class Request:
    """One POST ready to send: prepared (and signed) before the clock starts."""

    platform: str
    user: str
    url: str
    body: bytes
    headers: Mapping[str, str]


def slack_message(base: str, n: int, user: str, text: str, *, subtype: str | None = None) -> Request:
    """A signed ``message.im`` event from ``user``, with event id number ``n`` (an edit with ``message_changed``)."""
    from tests.auxil.fake_slack_api import signed_headers

    ts = f"{1_700_000_000 + n}.{n % 1_000_000:06d}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": f"D{user}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
    }
    if subtype is not None:
        event["subtype"] = subtype
    payload = {
        "token": "bench",
        "team_id": SLACK_TEAM,
        "api_app_id": "A0HOCBOT",
        "event": event,
        "type": "event_callback",
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": SLACK_TEAM,
                "user_id": SLACK_BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "event_id": f"EvBENCH{n:08d}",
        "event_time": 1_700_000_000 + n,
    }
    body = json.dumps(payload)
    headers = signed_headers(SLACK_SECRET, body, content_type="application/json")
    return Request("slack", user, f"{base}/slack/events", body.encode(), headers)


def telegram_message(base: str, n: int, user_id: int, lang: str, text: str) -> Request:
    """A webhook update (number ``n``) of a private text message, with the secret header."""
    message: dict[str, Any] = {
        "message_id": n,
        "date": 1_764_576_000 + n,
        "from": {"id": user_id, "is_bot": False, "first_name": "Coordinator", "language_code": lang},
        "chat": {"id": user_id, "type": "private", "first_name": "Coordinator"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    body = json.dumps({"update_id": n, "message": message})
    headers = {"Content-Type": "application/json", TELEGRAM_HEADER: TELEGRAM_SECRET}
    return Request("telegram", str(user_id), f"{base}/telegram/webhook", body.encode(), headers)


@dataclass(slots=True)
class LoadResult:
    """What one load run measured."""

    sent: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    started: float = 0.0  # time.monotonic() at the first request
    per_user: Counter[str] = field(default_factory=Counter)  # acknowledged (200) requests by user

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else float("nan")

    def p(self, q: float) -> float:
        """Ack latency percentile in milliseconds."""
        return percentile(self.latencies, q) * 1000


async def load(requests: Iterable[Request], *, concurrency: int, max_seconds: float) -> LoadResult:
    """POST ``requests`` with at most ``concurrency`` in flight, stopping after ``max_seconds``.

    Only 127.0.0.1 is ever addressed (the URLs come from this module's builders).
    """
    result = LoadResult()
    pending = iter(requests)
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        result.started = time.monotonic()
        began = time.perf_counter()
        deadline = began + max_seconds

        async def client() -> None:
            # The iterator is shared: each request is taken by exactly one client.
            for request in pending:
                if time.perf_counter() >= deadline:
                    return
                t0 = time.perf_counter()
                try:
                    async with session.post(request.url, data=request.body, headers=request.headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                result.latencies.append(time.perf_counter() - t0)
                result.statuses[status] += 1
                result.sent += 1
                if status == 200:
                    result.per_user[f"{request.platform}:{request.user}"] += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - began
    return result


def statuses(result: LoadResult) -> str:
    """``200×2000`` or ``200×1990 401×10``."""
    return " ".join(f"{code}×{n}" for code, n in sorted(result.statuses.items()))
