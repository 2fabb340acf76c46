"""Slack requests in: what the endpoint checks before bolt sees a request (the headers before the body
is read, the shape of a correctly signed body before it is dispatched), and which events are a person
writing to the bot.

Slack signs what it sends, but a signed body can still be something this bot cannot use (a replayed
test, a new payload type, a broken proxy). Such a body is acknowledged with a 200 and a log line, so
that Slack does not retry it, and never reaches a listener that would fail on it after the
acknowledgement.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from slack_bolt.context.async_context import AsyncBoltContext

#: Slack refuses requests whose timestamp is more than five minutes away from now.
MAX_CLOCK_SKEW = 5 * 60
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_HANDLED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_EVENT_STRINGS = ("type", "user", "channel", "text", "ts", "thread_ts", "channel_type", "subtype", "bot_id")


def header_problem(timestamp: str | None, signature: str | None, now: float) -> str | None:
    """Why a request cannot be signed by Slack, from its headers alone (None when it may be).

    Checked before the body is read, so that a client without the signing secret cannot make the
    server hold a large body: a timestamp within five minutes of now and a signature of the right form.
    """
    if not timestamp or not signature:
        return "missing signature headers"
    try:
        stamp = int(timestamp)
    except ValueError:
        return "malformed timestamp"
    if abs(now - stamp) > MAX_CLOCK_SKEW:
        return "stale timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    return None


class Malformed(ValueError):
    """The body is not even valid JSON or form data: answered with 400."""


def body_problem(body: str, content_type: str) -> str | None:
    """Why a signed body cannot be used by this bot (None when it can); raises :class:`Malformed`
    when it does not parse at all.

    JSON bodies are Events API callbacks; form bodies are slash commands or interactions
    (``payload=<json>``).
    """
    return checked_body(body, content_type)[0]


def checked_body(body: str, content_type: str) -> tuple[str | None, dict[str, Any] | None]:
    """:func:`body_problem`, and the parsed Events API callback when the body is a usable one (None
    for forms and unusable bodies)."""
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return _form_problem(body), None
    doc = _json(body)
    if doc is _UNPARSABLE:
        raise Malformed("body is not JSON")
    if not isinstance(doc, dict):
        return "body is not a JSON object", None
    problem = _callback_problem(doc)
    return problem, (doc if problem is None else None)


def _callback_problem(doc: dict[str, Any]) -> str | None:
    if not isinstance(doc.get("type"), str):
        return "no request type"
    if doc["type"] == "url_verification":
        return None if isinstance(doc.get("challenge"), str) else "url_verification without a challenge"
    if "event" in doc:
        event = doc["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is not an object with a type"
        if any(not isinstance(event.get(key, ""), str | None) for key in _EVENT_STRINGS):
            return "an event field that should be text is not"
    for key in ("team_id", "api_app_id", "event_id"):
        if not isinstance(doc.get(key, ""), str):
            return f"{key} is not text"
    return None


def _form_problem(body: str) -> str | None:
    try:
        fields = parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except ValueError:
        return "malformed form"
    if "payload" not in fields:
        # A slash command: the bot answers through response_url, to the user who typed it.
        for key in ("command", "user_id", "response_url"):
            if not fields.get(key, [""])[0]:
                return f"slash command without {key}"
        return None
    payload = _json(fields["payload"][0])
    if payload is _UNPARSABLE:
        raise Malformed("interaction payload is not JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "interaction payload is not an object with a type"
    user = payload.get("user")
    if user is not None and not (isinstance(user, dict) and isinstance(user.get("id", ""), str)):
        return "interaction user is not an object"
    actions = payload.get("actions")
    if actions is not None:
        if not isinstance(actions, list) or not actions:
            return "interaction without actions"
        for action in actions:
            if not isinstance(action, dict):
                return "an action is not an object"
            if any(not isinstance(action.get(key, ""), str) for key in ("action_id", "block_id", "value")):
                return "an action field that should be text is not"
    for key in ("container", "channel", "message", "team"):
        if not isinstance(payload.get(key, {}), dict | None):
            return f"interaction {key} is not an object"
    return None


_UNPARSABLE = object()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _UNPARSABLE
    except RecursionError:  # valid JSON nested thousands deep: nothing Slack sends
        return None


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """What the reply to a message or mention needs from its event."""

    team: str
    user: str
    channel: str
    text: str
    thread: str | None
    token: str | None

    @classmethod
    def of(cls, event: dict[str, Any], team: str, token: str | None, *, mention: bool) -> MessageEvent:
        """The message of ``event`` (a mention: without the bot's ``<@U…>``)."""
        text = event.get("text") or ""
        if mention:
            text = _MENTION.sub(" ", text)
        return cls(
            team=team,
            user=str(event["user"]),
            channel=str(event["channel"]),
            text=text,
            # A mention is answered in its thread; a DM in the thread it was written in, if any.
            thread=event.get("thread_ts") or (event.get("ts") if mention else None),
            token=token,
        )


def is_user_message(event: Mapping[str, Any], bot_user_id: str | None, *, mention: bool) -> bool:
    """True for a message a person wrote to the bot: not the bot's, another bot's, an edit or a deletion."""
    if event.get("subtype") not in _HANDLED_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user") or not event.get("channel"):
        return False
    if bot_user_id and event.get("user") == bot_user_id:
        return False
    if mention:
        # A mention in a DM arrives as a message.im too; that one is answered.
        return not str(event["channel"]).startswith("D")
    return event.get("channel_type") == "im"


def organisation_install(body: Mapping[str, Any]) -> bool:
    """An event of an organisation-wide (Enterprise Grid) installation: bolt finds its workspace."""
    if body.get("is_enterprise_install"):
        return True
    authorizations = body.get("authorizations")
    return isinstance(authorizations, list) and any(
        isinstance(a, dict) and a.get("is_enterprise_install") for a in authorizations
    )


def team_of(body: Mapping[str, Any], context: AsyncBoltContext) -> str:
    """The workspace of a request, as bolt's authorisation found it or as the body says."""
    team = context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or ""
    return str(team)


def str_or_none(value: object) -> str | None:
    """``value`` when it is a non-empty string (a profile field), else None."""
    return value if isinstance(value, str) and value else None


def request_key(body: Mapping[str, Any]) -> str:
    """The inbox key of a request: an event's ``event_id`` (Slack retries keep it), else the digest of
    the body (a command's or a button's holds a ``trigger_id`` of its own)."""
    return (
        str(body.get("event_id") or "")
        or "sha256:"
        + hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ).hexdigest()
    )
