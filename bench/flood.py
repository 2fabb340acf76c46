"""Unauthenticated clients that send most of a 1 MB body and stall, on each platform route of ``hoc-bot run``.

    python -m bench.flood [--connections 300]

Slack's route gets a fresh timestamp and a well-formed but wrong signature (what passes the header
check), Telegram's a wrong secret token. Prints the server's resident memory before, at its peak and
after, how many connections the server closed and how long after they stalled, and whether the bot
still answers ``/healthz`` during and after the flood. Budget: RSS grows by less than 60 MB, every
connection is closed within 60 s, memory comes back.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import secrets
import time
from collections import Counter

import aiohttp

from bench._common import (
    TELEGRAM_HEADER,
    BotProcess,
    FakesProcess,
    memory_mb,
    platform_env,
)

BODY = 1024 * 1024
#: What each client sends of its body before it stalls.
SENT = 900 * 1024
CHUNK = 64 * 1024


async def stalled_client(
    port: int, path: str, headers: dict[str, str], outcome: Counter[str], closed: list[float]
) -> None:
    """Send the headers and most of the body, then wait, sending nothing more, until the server closes."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        outcome["refused"] += 1
        return
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {BODY}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    stalled_at = time.monotonic()
    try:
        writer.write(head.encode())
        chunk = b"x" * CHUNK
        for _ in range(SENT // CHUNK):
            writer.write(chunk)
            await writer.drain()
        stalled_at = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), 120)
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "closed"
        outcome[status] += 1
    except (ConnectionError, TimeoutError) as exc:
        outcome[type(exc).__name__] += 1
    finally:
        closed.append(time.monotonic() - stalled_at)
        writer.close()


async def health(base: str, session: aiohttp.ClientSession) -> int:
    try:
        async with session.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def run(connections: int) -> int:
    fakes = FakesProcess([])
    bot = BotProcess(platform_env(fakes.slack_api_url, fakes.telegram_url))
    try:
        await bot.ready()
        pid = bot.proc.pid
        await asyncio.sleep(1.0)
        before = memory_mb(pid)["VmRSS"]
        slack_headers = {
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + secrets.token_hex(32),
            "Content-Type": "application/json",
        }
        telegram_headers = {TELEGRAM_HEADER: "wrong-secret-0123456789", "Content-Type": "application/json"}
        outcomes = {"slack": Counter[str](), "telegram": Counter[str]()}
        closed: dict[str, list[float]] = {"slack": [], "telegram": []}
        start = time.monotonic()
        clients = [
            asyncio.create_task(
                stalled_client(bot.port, "/slack/events", slack_headers, outcomes["slack"], closed["slack"])
            )
            for _ in range(connections)
        ] + [
            asyncio.create_task(
                stalled_client(
                    bot.port, "/telegram/webhook", telegram_headers, outcomes["telegram"], closed["telegram"]
                )
            )
            for _ in range(connections)
        ]
        peak = before
        healthy_during: Counter[int] = Counter()
        async with aiohttp.ClientSession() as session:
            while not all(c.done() for c in clients) and time.monotonic() - start < 130:
                peak = max(peak, memory_mb(pid)["VmRSS"])
                healthy_during[await health(bot.base, session)] += 1
                await asyncio.sleep(0.25)
            await asyncio.gather(*clients)
            all_closed = time.monotonic() - start
            await asyncio.sleep(5.0)
            after = memory_mb(pid)["VmRSS"]
            healthy_after = await health(bot.base, session)
        print(f"{connections} stalled clients per route, each sending {SENT // 1024} KB of a {BODY // 1024} KB body")
        for route in ("slack", "telegram"):
            waits = sorted(closed[route])
            print(
                f"  {route:<9} answers {dict(outcomes[route])}; closed by the server at most "
                f"{waits[-1]:.1f} s after the client stalled (median {waits[len(waits) // 2]:.1f} s)"
            )
        print(f"all {2 * connections} connections closed {all_closed:.1f} s after the flood began (budget 60 s)")
        print(
            f"RSS: before {before:.1f} MB, peak {peak:.1f} MB (+{peak - before:.1f} MB, budget +60), "
            f"5 s after {after:.1f} MB (+{after - before:.1f} MB); peak/before {peak / before:.2f}x"
        )
        print(f"/healthz during the flood: {dict(healthy_during)}; after: {healthy_after}")
        return 0
    finally:
        bot.stop()
        fakes.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=300, help="stalled clients per route")
    args = parser.parse_args()
    return asyncio.run(run(args.connections))


if __name__ == "__main__":
    raise SystemExit(main())
