"""The window in which a reply can be sent twice: from the platform accepting it to the inbox recording it.

A reply is kept in the inbox before it is sent, and each delivery is recorded once the platform has
accepted it (see ``bot.adapters.inbox.Turn``). Slack's ``chat.postMessage`` and Telegram's
``sendMessage`` take no idempotency key, so a process that dies after the platform accepted a reply
and before that record is committed sends the reply again after a restart. This measures that
window, per reply, for Slack DMs under load: the Slack platform with an SQLite file store, in this
process, against the fake Slack Web API; signed DMs posted to ``/slack/events`` with bounded
concurrency.

For each reply: accepted = when the fake Web API received the ``chat.postMessage`` (its answer goes
out at once); recorded = when the commit of the inbox row's delivery count that covers it returned.
Prints p50 / p90 / p99 / max of recorded − accepted and the share of the run's wall time spent
inside some window (the chance that a ``kill -9`` at a random moment of the run would duplicate a
reply). Prints, never asserts; 127.0.0.1 only.

    python -m bench.reply_window [--messages 1000] [--users 200] [--concurrency 16]
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bench._common import SLACK_BOT_USER, SLACK_SECRET, SLACK_TEAM, SLACK_TOKEN, percentile, slack_users
from bot.adapters.slack import SlackPlatform
from bot.app import build_bot, build_platforms
from bot.config import Settings
from bot.core.ports import InboxRecord, InboxRow
from bot.store.sql import SqlStore
from bot.web import create_app
from tests.auxil.fake_slack_api import FakeSlackApi, SlackDelivery, serve

TEXTS = ("plan", "comment recruter des écoles ?", "how do I recruit schools", "aide")


class TimedStore(SqlStore):
    """An SQLite store that notes which user each claimed row is for and when each delivery count was committed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_of: dict[int, str] = {}
        self.recorded: dict[int, list[tuple[int, float]]] = defaultdict(list)

    def inbox_claim(
        self, platform: str, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[InboxRow]:
        rows = super().inbox_claim(platform, owner, now, lease, limit)
        for row in rows:
            self.user_of[row.id] = str(json.loads(row.item.payload)["body"]["event"]["user"])
        return rows

    def inbox_record(self, records: Sequence[InboxRecord]) -> None:
        super().inbox_record(records)
        now = time.monotonic()
        for record in records:
            if record.sent is not None:
                self.recorded[record.row_id].append((record.sent, now))


def windows(store: TimedStore, accepted: dict[str, list[float]]) -> list[tuple[float, float]]:
    """(accepted, recorded) of every message posted: the first commit of its row's delivery count
    after it was accepted covers it (a reply's next message waits for the record of the last one).
    Users write one message at a time, each its own row."""
    rows_of: dict[str, list[int]] = defaultdict(list)
    for row_id, user in store.user_of.items():
        rows_of[user].append(row_id)
    spans: list[tuple[float, float]] = []
    for user, row_ids in rows_of.items():
        commits = sorted(t for row_id in row_ids for _, t in store.recorded.get(row_id, []))
        for at in accepted.get(f"D{user}", []):
            later = [t for t in commits if t >= at]
            if later:
                spans.append((at, later[0]))
    return spans


def covered(spans: Sequence[tuple[float, float]]) -> float:
    """Seconds of wall time inside at least one span."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


async def run(args: argparse.Namespace) -> int:
    fake = await FakeSlackApi().start()
    fake.add_workspace(SLACK_TEAM, SLACK_TOKEN, bot_user=SLACK_BOT_USER)
    users = slack_users(args.users)
    for user, locale, tz in users:
        fake.add_user(user, SLACK_TEAM, locale=locale, tz=tz)
    with tempfile.TemporaryDirectory(prefix="hoc-window-") as tmp:
        from bot.store.engine import open_store

        base = open_store(f"sqlite:///{Path(tmp) / 'bot.sqlite3'}")
        store = TimedStore(base.engine)
        env = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_API_URL": fake.api_url}
        settings = Settings.from_env(env)
        bot = build_bot(settings, store=store)
        [platform] = build_platforms(settings, bot)
        assert isinstance(platform, SlackPlatform)
        runner, url = await serve(create_app([platform]))
        await platform.start()
        slack = SlackDelivery(url, SLACK_SECRET)
        # One message per user and row; a user's next message waits for the replies of the last.
        per_user = max(1, args.messages // len(users))
        started = time.monotonic()
        limit = asyncio.Semaphore(args.concurrency)

        async def user_turns(index: int, user: str) -> None:
            for k in range(per_user):
                async with limit:
                    event = {
                        "type": "message",
                        "channel": f"D{user}",
                        "user": user,
                        "text": TEXTS[(index + k) % len(TEXTS)],
                        "ts": f"{time.time():.6f}",
                        "channel_type": "im",
                    }
                    payload = {
                        "type": "event_callback",
                        "team_id": SLACK_TEAM,
                        "api_app_id": "A0HOCBOT",
                        "event_id": f"EvW{index:05d}{k:04d}",
                        "event": event,
                    }
                    await slack.event(payload)
                await asyncio.sleep(0.05)

        await asyncio.gather(*(user_turns(i, user) for i, (user, _, _) in enumerate(users)))
        left = await platform.drain(within=args.max_seconds)
        wall = time.monotonic() - started
        accepted: dict[str, list[float]] = defaultdict(list)
        for call in fake.calls_to("chat.postMessage", ok=True):
            accepted[str(call.params["channel"])].append(call.at)
        spans = windows(store, accepted)
        ms = [1000 * (b - a) for a, b in spans]
        handled = len(store.user_of)
        print(f"{handled} DMs handled, {len(spans)} messages accepted and recorded, {left} left; {wall:.1f} s")
        print(
            "window from the platform accepting a reply to the inbox recording it (ms): "
            f"p50 {percentile(ms, 50):.2f}  p90 {percentile(ms, 90):.2f}  p99 {percentile(ms, 99):.2f}  "
            f"max {max(ms, default=float('nan')):.2f}"
        )
        share = covered(spans) / wall if wall else float("nan")
        print(f"share of the run's wall time inside some window: {100 * share:.2f} % (a kill -9 at a random moment")
        print("of this run would send one reply twice with about that chance; no reply is lost)")
        await platform.stop()
        await slack.close()
        await runner.cleanup()
        store.engine.dispose()
    await fake.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="DMs in all (default 1000)")
    parser.add_argument("--users", type=int, default=200, help="distinct users (default 200)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="longest wait for the replies (default 60)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
