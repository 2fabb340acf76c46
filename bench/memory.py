"""Resident memory of `hoc-bot run` (both adapters) after 5,000 and 10,000 handled messages.

Starts the fake Slack Web API and Telegram Bot API (127.0.0.1), then ``hoc-bot run`` with Slack (HTTP
mode) and Telegram (webhook) and an SQLite file, and sends it a mix of signed Slack DMs and Telegram
updates from a fixed population of users (questions in French and English, commands, things it cannot
answer), in equal parts (two by default), waiting after each until every message was handled and
answered. Prints VmRSS and VmHWM (peak) from /proc/<pid>/status right after start (the baseline) and
after each part, and the growth over the last part. Bounded in count and time; prints, never asserts.

    python -m bench.memory [--messages 10000] [--telegram-share 0.15] [--python PATH]

The process runs this checkout (PYTHONPATH) with the packages of ``--python``: a development
environment holds packages the bot does not need but that python-telegram-bot and httpx load
when they find them (cryptography, rich: about 9 MB). As deployed:

    python -m venv /tmp/hoc-venv && /tmp/hoc-venv/bin/pip install .
    python -m bench.memory --python /tmp/hoc-venv/bin/python
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a file, this directory would come first on sys.path and bench/http.py would shadow the
    # standard library's ``http``: put the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import random
import subprocess
import time
from collections import Counter

import aiohttp

from bench._common import (
    COMMANDS,
    QUESTIONS,
    BotProcess,
    FakesProcess,
    LoadResult,
    Request,
    load,
    platform_env,
    slack_message,
    slack_users,
    statuses,
    telegram_message,
)

#: Telegram commands typed with the menu.
TELEGRAM_COMMANDS = ("/plan", "/steps", "/help", "/start", "/remind tomorrow 9am step 2", "/lang en")


#: Packages that load with python-telegram-bot or httpx when they are installed, though the bot
#: needs none of them: a development environment has them (test tools depend on them), a
#: deployment made with ``pip install .`` does not.
OPTIONAL_HEAVY = ("cryptography", "rich", "trio")


def environment(python: str) -> str:
    """Which of :data:`OPTIONAL_HEAVY` ``python`` can import, and how many packages it has."""
    code = (
        "import importlib.util, importlib.metadata as m; "
        f"print(','.join(n for n in {OPTIONAL_HEAVY!r} if importlib.util.find_spec(n)) or 'none', "
        "len(list(m.distributions())))"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    found, _, count = done.stdout.strip().rpartition(" ")
    if done.returncode:
        return f"could not be inspected ({done.stderr.strip()[-200:]})"
    return f"{count} distributions; importable among {', '.join(OPTIONAL_HEAVY)}: {found}"


def messages(base: str, count: int, args: argparse.Namespace, rng: random.Random) -> list[Request]:
    """``count`` messages, Slack or Telegram, from random users of fixed populations; ids start at 1."""
    slack_ids = [u for u, _, _ in slack_users(args.slack_users)]
    out = []
    for n in range(1, count + 1):
        lang, text = rng.choice(QUESTIONS)
        command = rng.random() < 0.25
        if rng.random() < args.telegram_share:
            user = 20_000_000 + rng.randrange(args.telegram_users)
            out.append(telegram_message(base, n, user, lang, rng.choice(TELEGRAM_COMMANDS) if command else text))
        else:
            out.append(slack_message(base, n, rng.choice(slack_ids), rng.choice(COMMANDS) if command else text))
    return out


async def heap_blocks(bot: BotProcess) -> float:
    """Memory blocks held by Python objects in the bot (a gauge of its /metrics)."""
    async with aiohttp.ClientSession() as session:
        return await bot.gauge(session, "hoc_python_heap_blocks")


async def settle(bot: BotProcess, fakes: FakesProcess, expected: Counter[str], within: float) -> Counter[str]:
    """Wait until ``expected`` messages per platform were handled and the replies stopped coming."""
    deadline = time.monotonic() + within
    handled: Counter[str] = Counter()
    last, quiet_since = (-1, -1), time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            handled = await bot.handled(session)
            stats = fakes.stats()
            replies = (stats["slack_posts"], stats["telegram_sends"])
            if replies != last:
                last, quiet_since = replies, time.monotonic()
            done = all(handled[p] >= n for p, n in expected.items())
            if done and time.monotonic() - quiet_since > 1.0:
                break
            await asyncio.sleep(0.25)
    return handled


def acked(result: LoadResult) -> Counter[str]:
    """Acknowledged requests per platform."""
    counts: Counter[str] = Counter()
    for who, n in result.per_user.items():
        counts[who.partition(":")[0]] += n
    return counts


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(11)
    fakes = FakesProcess(slack_users(args.slack_users))
    bot: BotProcess | None = None
    began = time.monotonic()
    try:
        bot = BotProcess(platform_env(fakes.slack_api_url, fakes.telegram_url), python=args.python)
        await bot.ready()
        print(f"ours: {' '.join(bot.command)} (pid {bot.proc.pid}), Slack and Telegram, SQLite file")
        print(f"  its environment: {environment(bot.command[0])}")
        at_start = {**bot.memory(), "blocks": await heap_blocks(bot)}
        plan = messages(bot.base, args.messages, args, rng)
        size = -(-len(plan) // args.parts)
        expected: Counter[str] = Counter()
        points = [("start", 0, at_start, Counter[str]())]
        for first in range(0, len(plan), size):
            part = plan[first : first + size]
            left = args.max_seconds - (time.monotonic() - began)
            result = await load(part, concurrency=args.concurrency, max_seconds=max(1.0, left))
            expected += acked(result)
            handled = await settle(bot, fakes, expected, max(1.0, args.max_seconds - (time.monotonic() - began)))
            mem = {**bot.memory(), "blocks": await heap_blocks(bot)}
            points.append((f"{sum(expected.values()):,} sent", sum(handled.values()), mem, handled))
            print(f"  {len(part):,} sent in {result.elapsed:.1f} s ({statuses(result)}); handled: {dict(handled)}")
        stats = fakes.stats()
        levels = bot.log_levels()
    finally:
        code = bot.stop() if bot is not None else None
        fakes.stop()

    print(
        f"{args.messages:,} messages, {1 - args.telegram_share:.0%} Slack from {args.slack_users} users, "
        f"{args.telegram_share:.0%} Telegram from {args.telegram_users} users; 25% commands, the rest questions"
    )
    print(f"{'after':<14}{'handled':>9}{'VmRSS MB':>10}{'VmHWM MB':>10}{'heap blocks':>13}   by platform")
    for name, handled_total, mem, by_platform in points:
        print(
            f"{name:<14}{handled_total:>9,}{mem['VmRSS']:>10.1f}{mem['VmHWM']:>10.1f}{mem['blocks']:>13,.0f}"
            f"   {dict(by_platform)}"
        )
    (_, h1, m1, _), (_, h2, m2, _) = points[-2], points[-1]
    growth = m2["VmRSS"] - m1["VmRSS"]
    print(
        f"growth from {h1:,} to {h2:,} handled: VmRSS {growth:+.1f} MB ({growth / m1['VmRSS']:+.1%}), "
        f"peak {m2['VmHWM'] - m1['VmHWM']:+.1f} MB, Python heap blocks {m2['blocks'] - m1['blocks']:+,.0f} "
        f"({(m2['blocks'] - m1['blocks']) / m1['blocks']:+.1%}); "
        f"baseline (right after start) {at_start['VmRSS']:.1f} MB"
    )
    print(
        f"replies received by the fakes: Slack {stats['slack_posts']:,} chat.postMessage, "
        f"Telegram {stats['telegram_sends']:,} sendMessage; log lines by level: {dict(sorted(levels.items()))}; "
        f"exit code after SIGTERM: {code}; {time.monotonic() - began:.0f} s in all"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages in all (default 10000)")
    parser.add_argument("--parts", type=int, default=2, help="sent in this many parts, memory read after each (2)")
    parser.add_argument(
        "--telegram-share",
        type=float,
        default=0.15,
        help="share of Telegram messages (default 0.15: their replies go out at 30/s)",
    )
    parser.add_argument("--slack-users", type=int, default=1000, help="Slack users (default 1000)")
    parser.add_argument("--telegram-users", type=int, default=300, help="Telegram users (default 300)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--max-seconds", type=float, default=150.0, help="time cap of the whole run (default 150)")
    parser.add_argument(
        "--python",
        help="interpreter to run hoc-bot with (default this one), e.g. that of a virtualenv made with `pip install .`",
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
