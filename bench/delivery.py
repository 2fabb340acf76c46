"""Reminder delivery through the real Slack and Telegram senders to fakes that enforce the platforms' limits.

The fake Telegram Bot API answers 429 (``retry_after``) beyond about 30 messages/s overall; the fake
Slack Web API answers 429 (``Retry-After``) beyond about one message/s per channel (token buckets,
see ``limit_rate`` and ``limit_channel_rate`` in tests/auxil). Both platforms document that short
bursts over the limit are tolerated, so the buckets hold a few messages (3 for Telegram, 2 per Slack
channel); ``--telegram-burst 1 --slack-burst 1`` makes them tolerate no early message at all.

Reminders are seeded in a store (SQLite file by default), then delivered by a ``ReminderRunner`` with
the platform's sender and ``Bot.compose``, as ``hoc-bot worker`` does. Prints the achieved rate
against the allowed one, the 429s received, the reminders not delivered and the duplicates. Also
sends, unpaced, a burst straight through each platform's SDK: the 429s it gets show that the fakes
enforce their limits. Each phase is bounded in time; everything talks to 127.0.0.1 only. Prints
figures; exits 1 when a reminder was dropped or sent twice.

    python -m bench.delivery [--telegram 300] [--slack-channels 5] [--per-channel 20] [--max-seconds 60]
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
import datetime as dt
import itertools
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench._common import SLACK_SECRET, SLACK_TEAM, SLACK_TOKEN, percentile
from bot.app import Bot, build_bot, build_platforms
from bot.config import Settings
from bot.core.ports import Sender, Store, SystemClock, UserKey, UserState
from bot.reminders import ReminderRunner
from bot.reminders.runner import RunStats
from tests.auxil.fake_slack_api import FakeSlackApi
from tests.auxil.fake_telegram_api import FakeTelegramAPI


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one delivery phase did."""

    seeded: int
    stats: RunStats
    seconds: float  # from the runner's start to the last accepted message
    sent: int  # reminders marked sent in the store
    pending: int  # still pending at the end: not lost, but not delivered within the time cap
    lost: int  # marked failed or dropped: never to be delivered


def open_store(kind: str, directory: Path) -> Store:
    """A MemoryStore, or an SQLite file as ``hoc-bot worker`` would use."""
    if kind == "memory":
        from bot.store.memory import MemoryStore

        return MemoryStore()
    from bot.store.engine import open_store as open_sql

    return open_sql(f"sqlite:///{directory / 'delivery.sqlite3'}")


def count(store: Store, platform: str, status: str) -> int:
    """Reminders of ``platform`` in ``status``."""
    return sum(r.key.platform == platform for r in store.list_reminders(None, status=status))


def seed(store: Store, keys: Sequence[UserKey], per_user: int) -> int:
    """``per_user`` reminders due a minute ago for each user, in round-robin order (as many users' would be)."""
    now = SystemClock().now()
    for i, key in enumerate(keys):
        chat = key.user if key.platform == "telegram" else ""
        lang = ("fr", "en")[i % 2]
        store.save_user(UserState(key, chat=chat, locale_hint=lang, welcomed=True, created_at=now))
    for round_ in range(per_user):
        for i, key in enumerate(keys):
            chat = key.user if key.platform == "telegram" else ""
            store.add_reminder(key, chat, (i + round_) % 5 + 1, now - dt.timedelta(minutes=1))
    return len(keys) * per_user


async def deliver(
    bot: Bot,
    store: Store,
    platform: str,
    sender: Sender,
    seeded: int,
    max_seconds: float,
    last_accepted: Callable[[], float],
) -> Delivery:
    """Run a worker until every reminder is sent or ``max_seconds`` passed."""
    runner = ReminderRunner(store, {platform: sender}, bot.compose, SystemClock(), worker_id=f"bench-{platform}")
    stop = asyncio.Event()
    began = time.monotonic()
    worker = asyncio.create_task(runner.run_forever(stop, interval=0.1))
    while time.monotonic() - began < max_seconds and not worker.done():
        if not await asyncio.to_thread(count, store, platform, "pending"):
            break
        await asyncio.sleep(0.1)
    stop.set()
    stats = await worker
    sent = await asyncio.to_thread(count, store, platform, "sent")
    pending = await asyncio.to_thread(count, store, platform, "pending")
    lost = sum([await asyncio.to_thread(count, store, platform, status) for status in ("failed", "dropped")])
    return Delivery(seeded, stats, last_accepted() - began, sent, pending, lost)


def rate(times: Sequence[float]) -> float:
    """Messages per second over a run of arrival times: (n - 1) intervals over the span."""
    ordered = sorted(times)
    if len(ordered) < 2 or ordered[-1] == ordered[0]:
        return float("nan")
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])


def intervals_ms(times: Sequence[float]) -> tuple[float, float]:
    """Smallest and median gap between consecutive arrivals, in milliseconds."""
    ordered = sorted(times)
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(ordered)]
    return (min(gaps), percentile(gaps, 50)) if gaps else (float("nan"), float("nan"))


def duplicates(accepted_per_chat: Counter[str], expected_per_chat: int) -> int:
    """Messages beyond one per reminder."""
    return sum(max(0, n - expected_per_chat) for n in accepted_per_chat.values())


async def unpaced_telegram(api: FakeTelegramAPI, count: int) -> tuple[int, int]:
    """``count`` sendMessage calls back to back through PTB without any limiter: (accepted, 429s)."""
    from telegram import Bot as TelegramBot
    from telegram.error import RetryAfter

    accepted = limited = 0
    async with TelegramBot(api.token, base_url=f"{api.url}/bot") as raw:
        for i in range(count):
            try:
                await raw.send_message(40_000_000 + i, "unpaced")
                accepted += 1
            except RetryAfter:
                limited += 1
    return accepted, limited


async def unpaced_slack(api: FakeSlackApi, count: int) -> tuple[int, int]:
    """``count`` chat.postMessage calls to one channel back to back, no retry: (accepted, 429s)."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=SLACK_TOKEN, base_url=api.api_url, retry_handlers=[])
    accepted = limited = 0
    for _ in range(count):
        try:
            await client.chat_postMessage(channel="DUNPACED", text="unpaced")
            accepted += 1
        except SlackApiError as exc:
            if exc.response.status_code != 429:
                raise
            limited += 1
    return accepted, limited


async def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)  # the runner logs each retry at INFO
    tg_api = await FakeTelegramAPI().start()
    slack_api = await FakeSlackApi().start()
    slack_api.add_workspace(SLACK_TEAM, SLACK_TOKEN, bot_user="UBOT1")
    tg_api.limit_rate(args.telegram_rate, burst=args.telegram_burst)
    slack_api.limit_channel_rate(args.slack_rate, burst=args.slack_burst)
    env = {
        "TELEGRAM_BOT_TOKEN": tg_api.token,
        "TELEGRAM_API_URL": tg_api.url,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": slack_api.api_url,
        "HOC_EVENT_DATE": "2026-12-07",
    }
    settings = Settings.from_env(env)
    with tempfile.TemporaryDirectory(prefix="hoc-delivery-") as tmp:
        store = open_store(args.store, Path(tmp))
        bot = build_bot(settings, store=store)
        platforms = {p.name: p for p in build_platforms(settings, bot)}
        try:
            # Telegram: one reminder per user, many users.
            tg_keys = [UserKey("telegram", "", str(30_000_000 + i)) for i in range(args.telegram)]
            tg_seeded = seed(store, tg_keys, 1)

            def tg_last() -> float:
                return max((c.at for c in tg_api.sent("sendMessage")), default=time.monotonic())

            tg_sender = platforms["telegram"].sender
            tg = await deliver(bot, store, "telegram", tg_sender, tg_seeded, args.max_seconds, tg_last)
            tg_calls = [c for c in tg_api.calls if c.method == "sendMessage"]
            tg_ok = [c.at for c in tg_calls if c.ok]
            tg_429 = sum(c.status == 429 for c in tg_calls)
            tg_dups = duplicates(Counter(str(c.params["chat_id"]) for c in tg_calls if c.ok), 1)

            # Slack: a few channels (DMs), many reminders each, all due at once.
            slack_keys = [UserKey("slack", SLACK_TEAM, f"U{i:04d}") for i in range(args.slack_channels)]
            for key in slack_keys:
                slack_api.add_user(key.user, SLACK_TEAM)
            slack_seeded = seed(store, slack_keys, args.per_channel)

            def slack_last() -> float:
                return max((c.at for c in slack_api.calls_to("chat.postMessage", ok=True)), default=time.monotonic())

            sl_sender = platforms["slack"].sender
            sl = await deliver(bot, store, "slack", sl_sender, slack_seeded, args.max_seconds, slack_last)
            sl_calls = slack_api.calls_to("chat.postMessage")
            sl_ok = [c for c in sl_calls if c.ok]
            sl_429 = sum(c.status == 429 for c in sl_calls)
            by_channel: dict[str, list[float]] = {}
            for c in sl_ok:
                by_channel.setdefault(str(c.params["channel"]), []).append(c.at)
            sl_dups = duplicates(Counter({ch: len(ts) for ch, ts in by_channel.items()}), args.per_channel)

            # The fakes' enforcement, shown by an unpaced burst through each SDK (fresh buckets).
            tg_api.limit_rate(args.telegram_rate, burst=args.telegram_burst)
            slack_api.limit_channel_rate(args.slack_rate, burst=args.slack_burst)
            raw_tg = await unpaced_telegram(tg_api, 60)
            raw_slack = await unpaced_slack(slack_api, 10)
        finally:
            for platform in platforms.values():
                await platform.stop()
            await tg_api.stop()
            await slack_api.stop()
            close = getattr(store, "close", None)
            if close is not None:
                close()

    print(
        f"store: {args.store}; fakes: Telegram {args.telegram_rate:g} messages/s overall (bucket of "
        f"{args.telegram_burst:g}), Slack {args.slack_rate:g} message/s per channel (bucket of {args.slack_burst:g})"
    )
    print(
        f"{'platform':<10}{'reminders':>10}{'sent':>6}{'seconds':>9}{'msg/s':>8}{'allowed':>9}{'% allowed':>10}"
        f"{'429s':>6}{'retried':>8}{'pending':>8}{'dropped':>8}{'dups':>6}"
    )
    channel_rates = [rate(ts) for ts in by_channel.values()]
    for name, result, achieved, allowed, limited, dups in (
        ("Telegram", tg, rate(tg_ok), args.telegram_rate, tg_429, tg_dups),
        ("Slack", sl, statistics.fmean(channel_rates), args.slack_rate, sl_429, sl_dups),
    ):
        print(
            f"{name:<10}{result.seeded:>10}{result.sent:>6}{result.seconds:>9.2f}{achieved:>8.2f}{allowed:>9.2f}"
            f"{achieved / allowed:>10.1%}{limited:>6}{result.stats.retried:>8}{result.pending:>8}{result.lost:>8}"
            f"{dups:>6}"
        )
    tg_gaps = intervals_ms(tg_ok)
    print(
        f"Telegram gaps between messages: smallest {tg_gaps[0]:.1f} ms, median {tg_gaps[1]:.1f} ms "
        f"(1/{args.telegram_rate:g} s = {1000 / args.telegram_rate:.1f} ms)"
    )
    print(
        f"Slack: msg/s is per channel (mean of {len(by_channel)} channels x {args.per_channel} reminders), from "
        f"{min(channel_rates):.3f} to {max(channel_rates):.3f}; the channels were served side by side: "
        f"{len(sl_ok)} messages in {sl.seconds:.2f} s"
    )
    print(
        f"unpaced bursts, no limiter: Telegram {raw_tg[0] + raw_tg[1]} sends back to back -> {raw_tg[0]} accepted, "
        f"{raw_tg[1]} x 429; Slack {raw_slack[0] + raw_slack[1]} posts to one channel -> {raw_slack[0]} accepted, "
        f"{raw_slack[1]} x 429"
    )
    print(
        "pending: not delivered within the time cap (kept for a later run); dropped: marked failed or dropped; "
        "dups: messages beyond one per reminder"
    )
    bad = tg.lost + sl.lost + tg_dups + sl_dups
    if bad:
        print(f"PROBLEM: {bad} reminders dropped or sent twice")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--telegram", type=int, default=300, help="Telegram users, one reminder each (default 300)")
    parser.add_argument("--slack-channels", type=int, default=5, help="Slack DM channels (default 5)")
    parser.add_argument("--per-channel", type=int, default=20, help="Slack reminders per channel (default 20)")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite", help="default: sqlite")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap of each platform (default 60)")
    parser.add_argument("--telegram-rate", type=float, default=30.0, help="Telegram's limit, messages/s (30)")
    parser.add_argument("--telegram-burst", type=float, default=3.0, help="Telegram bucket size (default 3)")
    parser.add_argument("--slack-rate", type=float, default=1.0, help="Slack's limit per channel, messages/s (1)")
    parser.add_argument("--slack-burst", type=float, default=2.0, help="Slack bucket size per channel (default 2)")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
