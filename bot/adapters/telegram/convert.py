"""Telegram updates in: a quick look at a webhook body's shape, the order key of an update, and
updates to the handler's IncomingMessage (or silence)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.core.messages import IncomingMessage

#: Short commands of the menu and the handler text each one stands for.
SHORT_COMMANDS = {"help": "help", "plan": "plan", "steps": "steps", "remind": "remind", "lang": "lang"}

# Largest id or Unix time Telegram sends fits in 64 bits; beyond, dates and ids overflow downstream.
_MAX_INT = 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_INT


def _is_user(value: object) -> bool:
    return (
        isinstance(value, dict)
        and _is_int(value.get("id"))
        and all(isinstance(value.get(field, ""), str) for field in ("language_code", "username", "first_name"))
    )


def _is_message(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    chat, sender = value.get("chat"), value.get("from")
    return (
        _is_int(value.get("message_id"))
        and _is_int(value.get("date"))
        and 0 <= value["date"] < 2**32
        and _is_user(chat)
        and isinstance(chat.get("type"), str)  # type: ignore[union-attr]  # _is_user: a dict
        and (sender is None or _is_user(sender))
        and isinstance(value.get("text", ""), str)
        and isinstance(value.get("entities", []), list)
    )


def looks_like_update(data: object) -> bool:
    """Whether ``data`` (parsed JSON) has the shape of a Telegram update, as far as this bot reads it.

    A quick look, done before the webhook answers; the update is read in full (PTB's
    ``Update.de_json``) after, and dropped with a warning if that fails.
    """
    if not isinstance(data, dict) or not _is_int(data.get("update_id")):
        return False
    for field, value in data.items():
        if field in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if not _is_message(value):
                return False
        elif field == "callback_query":
            if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not _is_user(value.get("from")):
                return False
            if not isinstance(value.get("data", ""), str):
                return False
            if "message" in value and not _is_message(value["message"]):
                return False
        elif field != "update_id" and not isinstance(value, dict):
            return False
    return True


def to_incoming(update: Update, bot_id: int, bot_username: str) -> IncomingMessage | None:
    """The message of a text update, or None when the bot should stay silent.

    Silent on edits, on other bots, on non-text messages, on commands addressed to another bot
    and, in groups, on anything that is neither a command, a mention of the bot nor a reply to it
    (the privacy mode rule).

    Args:
        update: The update as PTB parsed it.
        bot_id: This bot's user id.
        bot_username: This bot's username, without ``@``.
    """
    message = update.message
    if message is None or message.text is None:
        return None
    sender = message.from_user
    if sender is None or sender.is_bot or message.via_bot is not None:
        return None
    private = message.chat.type == ChatType.PRIVATE
    if not private and message.chat.type not in {ChatType.GROUP, ChatType.SUPERGROUP}:
        return None
    text = _command_text(message, bot_username, private)
    if text is None:
        if private:
            text = message.text
        elif _mentions(message, bot_id, bot_username) or _replies_to(message, bot_id):
            text = re.sub(rf"(?i)@{re.escape(bot_username)}\b", " ", message.text).strip()
        else:
            return None
    return IncomingMessage(
        platform="telegram",
        workspace="",
        user=str(sender.id),
        chat=str(message.chat.id),
        text=text,
        locale_hint=sender.language_code,
    )


def _command_text(message: Message, bot_username: str, private: bool) -> str | None:
    """The handler text of a leading ``/command``; None when there is none or it is not for us."""
    text = message.text or ""
    entity = next(
        (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0),
        None,
    )
    if entity is None:
        return None
    # Commands are ASCII, so UTF-16 offsets and Python indices agree on them.
    name, _, target = text[1 : entity.length].partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    name = name.lower()
    rest = text[entity.length :].strip()
    if name == "start":
        # Deep links (t.me/<bot>?start=step_2) carry [A-Za-z0-9_-]: underscores stand for spaces.
        # A bare /start shows the plan; on first contact the handler puts its welcome first.
        return rest[:64].replace("_", " ").strip() or "plan"
    if name == "hoc":
        return f"/hoc {rest}".strip()
    if name in SHORT_COMMANDS:
        return f"{SHORT_COMMANDS[name]} {rest}".strip()
    if private or target:
        # Other commands (/date, /tz, /done …) go to the handler, which knows them.
        return f"/{name} {rest}".strip()
    return None


def _mentions(message: Message, bot_id: int, bot_username: str) -> bool:
    wanted = f"@{bot_username}".lower()
    for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and text.lower() == wanted:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    return False


def _replies_to(message: Message, bot_id: int) -> bool:
    original = message.reply_to_message
    return original is not None and original.from_user is not None and original.from_user.id == bot_id


def callback_to_incoming(update: Update, decode: Callable[[str], str] = lambda data: data) -> IncomingMessage | None:
    """The button press of a callback query, or None when it carries no data.

    Args:
        update: The update as PTB parsed it.
        decode: Turns ``callback_data`` back into the button id (see CallbackIds.decode).
    """
    query = update.callback_query
    if query is None or not query.data:
        return None
    chat = query.message.chat.id if query.message is not None else query.from_user.id
    return IncomingMessage(
        platform="telegram",
        workspace="",
        user=str(query.from_user.id),
        chat=str(chat),
        text=decode(query.data),
        locale_hint=query.from_user.language_code,
        action=True,
    )


def order_key(data: Mapping[str, Any]) -> str:
    """The inbox order key of an update: its chat (a chat's updates are handled one at a time, in order)."""
    query = data.get("callback_query")
    message = (
        data.get("message") or data.get("edited_message") or (query.get("message") if isinstance(query, dict) else None)
    )
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return f"chat:{message['chat'].get('id')}"
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        return f"chat:{query['from'].get('id')}"
    return f"update:{data.get('update_id')}"
