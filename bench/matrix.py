"""Matrix round trip: from a coordinator's send to the bot's decrypted reply, in an encrypted direct chat.

Starts a Synapse on 127.0.0.1 (SQLite, in a temporary directory; needs matrix-synapse from
requirements-test.txt) and ``hoc-bot run`` with the Matrix variables, then a matrix-nio client with
end-to-end encryption sends ``--messages`` questions one after the other and waits for each reply.
Prints the median and p95 round trip (target: median at most 300 ms) and the resident memory of the
``hoc-bot run`` process. Exits 1 when the median misses the target or a reply does not come.

    python -m bench.matrix [--messages 20] [--with-slack-telegram] [--python PATH]

``--with-slack-telegram`` also configures Slack (HTTP) and Telegram (webhook) against the fakes of
bench/_common.py, so that the memory printed is that of ``hoc-bot run`` with all three platforms;
``--python`` runs the bot with another environment's packages (as deployed: ``pip install .``).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import tempfile
import time
import urllib.error
import urllib.request

from tests.auxil.matrix_client import Coordinator
from tests.auxil.synapse import PASSWORD, Synapse, free_port

REPO = Path(__file__).resolve().parent.parent
TARGET_MEDIAN_MS = 300.0
QUESTIONS = ("comment recruter des écoles ?", "étapes", "plan", "partager sur facebook", "étape 3")


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(json.load(response).get("ready"))
    except (OSError, urllib.error.HTTPError):
        return False


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(messages: int, *, with_slack_telegram: bool = False, python: str | None = None) -> int:
    logging.getLogger("nio").setLevel(logging.ERROR)  # the client's own key-sharing notes
    with tempfile.TemporaryDirectory(prefix="hoc-bench-matrix-") as tmp:
        root = Path(tmp)
        synapse = Synapse(root / "synapse").start()
        bot_user = synapse.register("hoc-bot")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOC_", "MATRIX_")) and k != "DATABASE_URL"}
        fakes = None
        if with_slack_telegram:
            from bench._common import FakesProcess, platform_env, slack_users

            fakes = FakesProcess(slack_users(10))
            env.update(platform_env(fakes.slack_api_url, fakes.telegram_url))
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "HOC_DB": str(root / "bot.sqlite3"),
                "HOC_LOG_LEVEL": "WARNING",
                "MATRIX_HOMESERVER": synapse.url,
                "MATRIX_USER_ID": bot_user,
                "MATRIX_PASSWORD": PASSWORD,
                "MATRIX_STORE_DIR": str(root / "matrix-store"),
            }
        )
        with (root / "bot.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                python or sys.executable, "-m", "bot", "run", "--port", str(port), stdout=log, stderr=log, env=env
            )
        try:
            deadline = time.monotonic() + 60
            while not await asyncio.to_thread(_ready, port):
                if proc.returncode is not None or time.monotonic() > deadline:
                    print("hoc-bot run did not become ready:", (root / "bot.log").read_text()[-2000:])
                    return 1
                await asyncio.sleep(0.1)
            async with Coordinator(synapse.url, synapse.register("camille"), root / "client") as camille:
                room = await camille.direct_chat(bot_user)
                await camille.say(room, "bonjour")  # first contact: the welcome, not timed
                await camille.wait(lambda: len(camille.in_room(room)) >= 2, 30, "the welcome")
                times = []
                for n in range(messages):
                    before = len(camille.in_room(room))
                    start = time.perf_counter()
                    await camille.say(room, QUESTIONS[n % len(QUESTIONS)])
                    await camille.wait(lambda b=before: len(camille.in_room(room)) > b, 30, f"reply {n + 1}")
                    times.append((time.perf_counter() - start) * 1000)
                    assert all(notice.decrypted for notice in camille.in_room(room)[before:])
                    await asyncio.sleep(0.05)
            rss = _rss_mb(proc.pid)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
            synapse.stop()
            if fakes is not None:
                fakes.stop()
    median = statistics.median(times)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    print(f"encrypted direct chat, {messages} messages: send -> decrypted reply")
    print(f"  median {median:.0f} ms   p95 {p95:.0f} ms   min {min(times):.0f} ms   max {max(times):.0f} ms")
    platforms = "Matrix, Slack and Telegram" if with_slack_telegram else "Matrix"
    print(f"  hoc-bot run ({platforms}) resident memory after the run: {rss:.0f} MB")
    print(f"  target: median <= {TARGET_MEDIAN_MS:.0f} ms: {'met' if median <= TARGET_MEDIAN_MS else 'MISSED'}")
    return 0 if median <= TARGET_MEDIAN_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--with-slack-telegram", action="store_true", help="configure all three platforms")
    parser.add_argument("--python", help="the Python of another environment to run the bot with")
    args = parser.parse_args()
    return asyncio.run(run(args.messages, with_slack_telegram=args.with_slack_telegram, python=args.python))


if __name__ == "__main__":
    sys.exit(main())
