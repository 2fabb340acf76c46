"""Ack throughput and latency of `hoc-bot run` for Slack events and Telegram updates, against a bare bolt app.

Starts the fake Slack Web API and Telegram Bot API (a process of their own, on 127.0.0.1), a bare
slack-bolt ``AsyncApp`` served by aiohttp that only acks message events (its own process: the
baseline), and ``hoc-bot run`` with both adapters (Slack HTTP mode, Telegram webhook), an SQLite file
and no per-user rate limit. Then, with bounded concurrency:

1. signed Slack events to the bare app and, alternating with it, the same events as edits
   (``message_changed``) to ``hoc-bot run``, which acks and ignores them: the ack path alone;
2. signed ``message.im`` events (distinct event ids, a few hundred users) to ``hoc-bot run``, each
   answered through the fake Web API while the next ones are acked;
3. Telegram webhook updates (private messages) to ``hoc-bot run``;
4. signed DMs again, ``--long-factor`` times as many: a load that lasts longer than replies wait
   for the acknowledgements in flight (1 s, see ``bot.web.AckFirst``), so that answering and
   acknowledging share the process.

Every load is bounded in count and in time and goes to 127.0.0.1 only. Prints requests/s and p50/p99
ack latency (time to the HTTP response), the ratio to the bare app, and whether every message was
answered (the replies the fakes received) and how long the last reply took. Prints, never asserts.

    python -m bench.http [--requests 2000] [--users 300] [--concurrency 32] [--max-seconds 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a file, this directory would come first on sys.path and this module would shadow the
    # standard library's ``http`` (which aiohttp imports): put the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import logging
import multiprocessing as mp
import random
import time
from collections import Counter
from typing import Any

import aiohttp

from bench._common import (
    COMMANDS,
    QUESTIONS,
    SLACK_SECRET,
    SLACK_TOKEN,
    BotProcess,
    FakesProcess,
    LoadResult,
    Request,
    free_port,
    load,
    platform_env,
    slack_message,
    slack_users,
    statuses,
    telegram_message,
    wait_for_port,
)

#: Telegram's overall limit, which the bot's sender keeps to: it sets how fast replies can go out.
TELEGRAM_RATE = 30.0


# ---------------------------------------------------------------------------------------- bare bolt
def _serve_bare_bolt(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging.basicConfig(level=logging.WARNING)

    async def main() -> None:
        app = AsyncApp(client=AsyncWebClient(token=SLACK_TOKEN, base_url=api_url), signing_secret=SLACK_SECRET)

        @app.event("message")
        async def ack_only(ack: AsyncAck) -> None:
            await ack()

        runner = web.AppRunner(app.web_app(path="/slack/events", port=port))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()  # until terminated

    asyncio.run(main())


class BareBolt:
    """The baseline: slack-bolt's AsyncApp behind its own aiohttp server, acking and nothing else."""

    def __init__(self, api_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = mp.get_context("spawn").Process(target=_serve_bare_bolt, args=(self.port, api_url), daemon=True)
        self.proc.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(10)


# ---------------------------------------------------------------------------------------- load
def slack_load(
    base: str, first: int, count: int, users: list[str], rng: random.Random, *, subtype: str | None = None
) -> list[Request]:
    """``count`` DMs from random users: mostly questions, some commands (edits of them with ``subtype``)."""
    out = []
    for n in range(first, first + count):
        text = rng.choice(QUESTIONS)[1] if rng.random() < 0.85 else rng.choice(COMMANDS)
        out.append(slack_message(base, n, rng.choice(users), text, subtype=subtype))
    return out


def telegram_load(base: str, first: int, count: int, users: int, rng: random.Random) -> list[Request]:
    """``count`` private messages from random users (ids 10,000,000 + i): questions, some commands."""
    out = []
    for n in range(first, first + count):
        user = 10_000_000 + rng.randrange(users)
        lang, text = rng.choice(QUESTIONS)
        if rng.random() >= 0.85:
            text = rng.choice(("/plan", "/steps", "/help", "/start", "plan", "help"))
        out.append(telegram_message(base, n, user, lang, text))
    return out


async def settle(
    bot: BotProcess, fakes: FakesProcess, platform: str, expected: int, within: float
) -> tuple[dict[str, Any], int]:
    """Wait until ``expected`` messages of ``platform`` were handled and the replies stopped coming."""
    deadline = time.monotonic() + within
    key = "slack_posts" if platform == "slack" else "telegram_sends"
    handled, last_count, quiet_since = 0, -1, time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            handled = (await bot.handled(session))[platform]
            stats = fakes.stats()
            if stats[key] != last_count:
                last_count, quiet_since = stats[key], time.monotonic()
            # The replies of the last handled messages follow them by a few milliseconds.
            if handled >= expected and time.monotonic() - quiet_since > 1.0:
                break
            await asyncio.sleep(0.25)
    return fakes.stats(), handled


def unanswered(result: LoadResult, replies: Counter[str], platform: str) -> int:
    """Users who got fewer replies than the messages of theirs that were acknowledged."""
    missing = 0
    for who, sent in result.per_user.items():
        kind, _, user = who.partition(":")
        if kind != platform:
            continue
        chat = f"D{user}" if platform == "slack" else user
        missing += replies.get(chat, 0) < sent
    return missing


def row(name: str, result: LoadResult) -> str:
    return (
        f"{name:<18}{result.sent:>9}{result.elapsed:>9.2f}{result.rate:>10.0f}"
        f"{result.p(50):>10.1f}{result.p(99):>10.1f}{result.p(100):>10.1f}   {statuses(result)}"
    )


def median_run(results: list[LoadResult]) -> LoadResult:
    """The run with the median request rate."""
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(7)
    users = slack_users(args.users)
    user_ids = [u for u, _, _ in users]
    n = args.requests

    async def measure(requests: list[Request]) -> LoadResult:
        return await load(requests, concurrency=args.concurrency, max_seconds=args.max_seconds)

    fakes = FakesProcess(users)
    bare: BareBolt | None = None
    bot: BotProcess | None = None
    try:
        bare = BareBolt(fakes.slack_api_url)
        bot = BotProcess(platform_env(fakes.slack_api_url, fakes.telegram_url))
        await bot.ready()
        print(f"ours: python {' '.join(bot.command[1:])} (pid {bot.proc.pid}), Slack and Telegram, SQLite file")

        # Warm-up (first requests pay for imports, auth.test, users.info), not measured.
        await measure(slack_load(bare.base, 1, args.warmup, user_ids, rng))
        warm_slack = await measure(slack_load(bot.base, 1, args.warmup, user_ids, rng))
        warm_tg = await measure(telegram_load(bot.base, 1, args.warmup, args.users, rng))
        await settle(bot, fakes, "slack", warm_slack.statuses[200], 30)
        await settle(bot, fakes, "telegram", warm_tg.statuses[200], 30)

        # The ack path alone: the bare app and ours on Slack edits (acked, then ignored), alternating
        # so that both see the same machine; the median run of each is kept.
        bare_runs, edit_runs = [], []
        for r in range(args.rounds):
            bare_runs.append(await measure(slack_load(bare.base, 100_000 * (r + 1), n, user_ids, rng)))
            edits = slack_load(bot.base, 100_000 * (r + 1), n, user_ids, rng, subtype="message_changed")
            edit_runs.append(await measure(edits))
        bare.stop()
        bare = None
        baseline, ours_edits = median_run(bare_runs), median_run(edit_runs)

        # Ours with the work: every DM answered (handler, SQLite, Web API calls) while acking.
        before = fakes.stats()
        ours_slack = await measure(slack_load(bot.base, 1_000_000, n, user_ids, rng))
        after_slack, handled_slack = await settle(
            bot, fakes, "slack", warm_slack.statuses[200] + ours_slack.statuses[200], args.reply_wait
        )
        ours_tg = await measure(telegram_load(bot.base, 1_000_000, n, args.users, rng))
        after_tg, handled_tg = await settle(
            bot, fakes, "telegram", warm_tg.statuses[200] + ours_tg.statuses[200], args.reply_wait
        )
        # A load longer than the time replies wait for the acknowledgements (AckFirst.max_delay):
        # past it, answering shares the process with acknowledging.
        long_n = n * args.long_factor
        before_long = fakes.stats()
        ours_long = await load(
            slack_load(bot.base, 2_000_000, long_n, user_ids, rng),
            concurrency=args.concurrency,
            max_seconds=args.max_seconds * args.long_factor,
        )
        after_long, _ = await settle(
            bot,
            fakes,
            "slack",
            warm_slack.statuses[200] + ours_slack.statuses[200] + ours_long.statuses[200],
            args.reply_wait,
        )
        levels = bot.log_levels()
    finally:
        if bare is not None:
            bare.stop()
        code = bot.stop() if bot is not None else None
        fakes.stop()

    print(
        f"{n} requests per run (at most {args.max_seconds:g} s), {args.concurrency} in flight, {args.users} users "
        f"per platform; ack latency = time to the HTTP response; bare bolt and edits: median of {args.rounds} runs"
    )
    print(f"{'':<18}{'requests':>9}{'seconds':>9}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}   statuses")
    print(row("bare bolt (ack)", baseline))
    print(row("ours Slack edits", ours_edits))
    print(row("ours Slack DMs", ours_slack))
    print(row("ours Telegram", ours_tg))
    print(row(f"ours Slack DMs ×{args.long_factor}", ours_long))
    print(
        f"ratio ours/bare bolt, requests/s: Slack DMs {ours_slack.rate / baseline.rate:.2f}x, "
        f"Slack edits (acked, ignored) {ours_edits.rate / baseline.rate:.2f}x, "
        f"Telegram updates {ours_tg.rate / baseline.rate:.2f}x; Slack's ack deadline: 3,000 ms"
    )
    slack_replies = after_slack["slack_posts"] - before["slack_posts"]
    slack_last = (after_slack["slack_last"] or ours_slack.started) - ours_slack.started
    print(
        f"Slack: {ours_slack.statuses[200]} DMs acknowledged, {handled_slack - warm_slack.statuses[200]} handled, "
        f"{slack_replies} chat.postMessage received by the fake; users with fewer replies than messages: "
        f"{unanswered(ours_slack, after_slack['slack_by_channel'] - before['slack_by_channel'], 'slack')}; "
        f"last reply {slack_last:.2f} s after the first event"
    )
    tg_replies = after_tg["telegram_sends"] - after_slack["telegram_sends"]
    tg_last = (after_tg["telegram_last"] or ours_tg.started) - ours_tg.started
    print(
        f"Telegram: {ours_tg.statuses[200]} updates acknowledged, {handled_tg - warm_tg.statuses[200]} handled, "
        f"{tg_replies} sendMessage received by the fake; users with fewer replies than messages: "
        f"{unanswered(ours_tg, after_tg['telegram_by_chat'] - after_slack['telegram_by_chat'], 'telegram')}; "
        f"last reply {tg_last:.2f} s after the "
        f"first update (at Telegram's {TELEGRAM_RATE:g} messages/s, {tg_replies} replies take "
        f"{tg_replies / TELEGRAM_RATE:.2f} s)"
    )
    long_replies = after_long["slack_posts"] - before_long["slack_posts"]
    long_last = (after_long["slack_last"] or ours_long.started) - ours_long.started
    print(
        f"Slack DMs ×{args.long_factor} ({ours_long.elapsed:.2f} s of load, longer than the 1 s replies wait for "
        f"acknowledgements): ratio {ours_long.rate / baseline.rate:.2f}x; {long_replies} chat.postMessage, "
        f"users with fewer replies than messages: "
        f"{unanswered(ours_long, after_long['slack_by_channel'] - before_long['slack_by_channel'], 'slack')}; "
        f"last reply {long_last:.2f} s after the first event "
        f"({ours_long.statuses[200] / max(long_last, 1e-9):.0f} messages answered per second)"
    )
    print(f"hoc-bot run log lines by level: {dict(sorted(levels.items()))}; exit code after SIGTERM: {code}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measured run (default 2000)")
    parser.add_argument("--users", type=int, default=300, help="distinct users per platform (default 300)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time cap of each run (default 20)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first (default 100)")
    parser.add_argument("--reply-wait", type=float, default=100.0, help="longest wait for the replies (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of the ack-only loads (default 3)")
    parser.add_argument(
        "--long-factor", type=int, default=5, help="the long Slack load is this many times --requests (default 5)"
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
