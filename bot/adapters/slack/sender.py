"""Reminders to a user's DM with the bot, paced per channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.client import send_error
from bot.adapters.slack.render import render_messages
from bot.adapters.toolkit.caches import TtlCache
from bot.adapters.toolkit.pacing import ChannelPacer
from bot.adapters.toolkit.sending import PlatformSender
from bot.core.errors import PermanentSendError, TransientSendError
from bot.core.messages import Reply
from bot.core.ports import UserKey

TokenLookup = Callable[[str], Awaitable[str | None]]
DmCache = TtlCache[tuple[str, str], str]


class SlackSender(PlatformSender):
    """Sends reminders to a user's DM with the bot, about one message per second per channel.

    Args:
        client: Web API client (its 429 handler waits out short Retry-After values).
        token_for: The bot token of a workspace (team id), None when the app is not installed there.
        min_interval: Seconds between two messages to one channel.
        dms: Cache of DM channel ids by (team, user), shared with the platform.
        clock: Monotonic seconds (pacing).
        sleep: Waits (pacing).
    """

    failures = (SlackApiError, aiohttp.ClientError, TimeoutError)
    #: A Web API error holds the request, token included: it is not chained.
    keep_cause = False

    def __init__(
        self,
        client: AsyncWebClient,
        token_for: TokenLookup,
        *,
        min_interval: float = 1.0,
        dms: DmCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.token_for = token_for
        self.dms: DmCache = dms if dms is not None else TtlCache(10_000, 24 * 3600)
        self.pacer = ChannelPacer(min_interval, clock=clock, sleep=sleep)

    async def deliver(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Post ``reply`` in the user's DM.

        Raises:
            PermanentSendError: The workspace uninstalled the app.
            SlackApiError: What the Web API answered, once short Retry-After values were waited out.
        """
        token = await self.token_for(key.workspace)
        if not token:
            raise PermanentSendError(f"slack: the app is not installed in workspace {key.workspace}")
        channel = await self._dm(token, key)
        for message in render_messages(reply, owner=key.user):
            await self.pacer.acquire(channel)
            await self.client.chat_postMessage(
                token=token,
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )

    def classify(self, exc: Exception) -> PermanentSendError | TransientSendError:
        """The user or channel is gone, the app uninstalled: permanent; rate limits, 5xx, time-outs: transient."""
        return send_error(exc)

    async def _dm(self, token: str, key: UserKey) -> str:
        cached = self.dms.get((key.workspace, key.user))
        if cached:
            return cached
        response = await self.client.conversations_open(token=token, users=key.user)
        channel = str(response["channel"]["id"])
        self.dms.put((key.workspace, key.user), channel)
        return channel
