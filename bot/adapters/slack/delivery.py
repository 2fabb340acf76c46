"""Replies out during a conversation: where a turn's replies go, and the Web API calls that post them
(failures are logged by error code and counted, never raised)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.client import error_code
from bot.adapters.slack.render import SlackMessage, render_messages
from bot.adapters.toolkit.sending import api_error
from bot.core.messages import Reply


@dataclass(frozen=True, slots=True)
class Where:
    """Where the replies of one turn go."""

    client: AsyncWebClient
    channel: str
    owner: str
    thread_ts: str | None = None
    update_ts: str | None = None
    respond: AsyncRespond | None = None
    ephemeral: bool = False
    ephemeral_to: str | None = None


class Replies:
    """Posts replies with a workspace's client, logging failures on ``log`` (the platform's logger).

    Args:
        log: Where failed calls are logged, with the fields that count them in the metrics.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log

    async def deliver(self, reply: Reply, where: Where) -> None:
        """Send ``reply`` where the turn's replies go: privately, in place of a message, or as new messages."""
        messages = render_messages(reply, owner=where.owner)
        if not messages:
            return
        if where.ephemeral and where.respond is not None:
            for i, message in enumerate(messages):
                await self.respond(where.respond, message, replace=reply.replace and i == 0)
            return
        if where.ephemeral_to is not None:
            for message in messages:
                await self.api(
                    "chat.postEphemeral",
                    where.client.chat_postEphemeral(
                        channel=where.channel,
                        user=where.ephemeral_to,
                        text=message.text,
                        blocks=message.blocks,
                        thread_ts=where.thread_ts,
                    ),
                )
            return
        if reply.replace and where.update_ts:
            first, *messages = messages
            update = where.client.chat_update(
                channel=where.channel, ts=where.update_ts, text=first.text, blocks=first.blocks
            )
            await self.api("chat.update", update)
        for message in messages:
            await self.post(where.client, where.channel, message, where.thread_ts)

    async def post(self, client: AsyncWebClient, channel: str, message: SlackMessage, thread: str | None) -> None:
        """Post ``message`` in ``channel`` (in ``thread``), without link previews."""
        await self.api(
            "chat.postMessage",
            client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )

    async def respond(self, respond: AsyncRespond, message: SlackMessage, *, replace: bool) -> None:
        """Answer through a command's or a button's ``response_url`` (shown to its user only)."""
        try:
            response = await respond(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=replace,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.log.warning(
                "slack: response_url post failed: %s", type(exc).__name__, extra=api_error("slack", type(exc).__name__)
            )
            return
        if response.status_code != 200:
            code = str(response.status_code)
            self.log.warning("slack: response_url answered %s", code, extra=api_error("slack", code))

    async def api(self, method: str, call: Awaitable[Any]) -> Any:
        """Await a Web API call; failures are logged (by error code) and give None."""
        try:
            return await call
        except SlackApiError as exc:
            code = error_code(exc)
            self.log.warning("slack: %s failed: %s", method, code, extra=api_error("slack", code))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.log.warning(
                "slack: %s failed: %s", method, type(exc).__name__, extra=api_error("slack", type(exc).__name__)
            )
        return None
