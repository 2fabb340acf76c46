"""Matrix events in: what is kept in the inbox (a payload), then what the handler reads (IncomingMessage).

A payload is decided when the event arrives, so that room messages not addressed to the bot are
never written anywhere: in a direct chat every text message is for the bot; in a room, a message
is when it mentions the bot or starts with ``!hoc`` (Matrix clients keep ``/`` commands for
themselves). Reactions are kept only when they are a number key (1️⃣ … 🔟).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from bot.adapters.matrix.render import reaction_number
from bot.core.messages import Button, IncomingMessage

PLATFORM = "matrix"
#: The command prefix in rooms (``!hoc plan``).
PREFIX = "!hoc"
#: A room with this many members or fewer (the bot included) is a direct chat: every message is for the bot.
DIRECT_MEMBERS = 2

_PREFIX = re.compile(r"^!hoc(?:\s+|$)", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


@dataclass(frozen=True, slots=True)
class Me:
    """How the bot is named in a room: its user id and its display name there."""

    user_id: str
    display_name: str = ""


def _mentions(content: dict[str, Any], me: Me) -> bool:
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        ids = mentions.get("user_ids")
        if isinstance(ids, list) and me.user_id in ids:
            return True
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and f"matrix.to/#/{me.user_id}" in unquote(formatted):
        return True
    body = content.get("body")
    return isinstance(body, str) and me.user_id in body


def _strip_fallback(body: str, content: dict[str, Any]) -> str:
    """A reply's body without the quoted lines older clients put first (``> <@alice:…> question``)."""
    relates = content.get("m.relates_to")
    if not (isinstance(relates, dict) and isinstance(relates.get("m.in_reply_to"), dict)):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def _without_name(body: str, me: Me) -> str:
    """``body`` without the bot's id, and without its display name at the start (``HoC bot: plan``)."""
    text = body.replace(me.user_id, " ")
    name = me.display_name.strip()
    if name and text.lower().lstrip().startswith(name.lower()):
        text = text.lstrip()[len(name) :]
    return text.strip().lstrip(":,").strip()


def addressed_text(content: dict[str, Any], me: Me, direct: bool) -> str | None:
    """The text of a message for the handler, or None when the message is not for the bot.

    ``!hoc plan`` becomes ``/hoc plan`` (a command, as on the other platforms); a mention is removed.
    """
    body = content.get("body")
    if not isinstance(body, str):
        return None
    body = _strip_fallback(body, content).strip()
    if _PREFIX.match(body):
        return ("/hoc " + body[len(PREFIX) :].strip()).strip()
    if _mentions(content, me):
        text = _without_name(body, me)
        if _PREFIX.match(text):
            return ("/hoc " + text[len(PREFIX) :].strip()).strip()
        return text or "help"
    if direct:
        return body
    return None


def thread_root(content: dict[str, Any]) -> str | None:
    """The root event of the thread a message was written in, if any."""
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.thread" and isinstance(relates.get("event_id"), str):
        return str(relates["event_id"])
    return None


def text_payload(
    event_id: str, sender: str, ts: int, room_id: str, content: dict[str, Any], me: Me, direct: bool
) -> dict[str, Any] | None:
    """The inbox payload of a text message, or None when it is not for the bot."""
    text = addressed_text(content, me, direct)
    if text is None:
        return None
    return {
        "kind": "text",
        "room": room_id,
        "event": event_id,
        "sender": sender,
        "ts": ts,
        "direct": direct,
        "text": text,
        "thread": thread_root(content),
    }


def reaction_payload(
    event_id: str, sender: str, ts: int, room_id: str, reacts_to: str, key: str, direct: bool
) -> dict[str, Any] | None:
    """The inbox payload of a reaction, or None when it is not a number key."""
    number = reaction_number(key)
    if number is None:
        return None
    return {
        "kind": "reaction",
        "room": room_id,
        "event": event_id,
        "sender": sender,
        "ts": ts,
        "direct": direct,
        "reacts_to": reacts_to,
        "number": number,
    }


def typed_number(text: str) -> int | None:
    """The number of a message that is only a number (``2``, ``2.``), else None."""
    match = _NUMBER.match(text)
    return int(match.group(1)) if match else None


def pressed(buttons: tuple[Button, ...], number: int) -> Button | None:
    """The ``number``-th button (from 1), or None when there is no such button."""
    return buttons[number - 1] if 1 <= number <= len(buttons) else None


def incoming(payload: dict[str, Any], text: str, *, action: bool = False) -> IncomingMessage:
    """The handler's message for a payload; Matrix tells no locale nor time zone."""
    return IncomingMessage(
        platform=PLATFORM,
        workspace="",
        user=str(payload["sender"]),
        chat=str(payload["room"]),
        text=text,
        action=action,
    )


def order_key(payload: dict[str, Any]) -> str:
    """The inbox order key: one user's events are handled one at a time, in order."""
    if payload.get("kind") == "invite":
        return f"room:{payload['room']}"
    return f"user:{payload['sender']}"
