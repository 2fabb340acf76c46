"""Block Kit rendering of replies and plain text from Slack's markup, with Slack's size limits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bot.adapters.toolkit.text import utf16_len
from bot.core.messages import Button, Link, Reply

#: Characters of mrkdwn text in one section (or context element).
MAX_SECTION_CHARS = 3000
#: Blocks in one message.
MAX_MESSAGE_BLOCKS = 50
#: Blocks in one App Home view.
MAX_HOME_BLOCKS = 100
#: Characters of a button's label.
MAX_BUTTON_CHARS = 75
#: Characters of a button's value.
MAX_BUTTON_VALUE = 2000
#: Elements in one actions block.
MAX_ACTIONS = 25
#: Characters of a message's notification (fallback) text.
MAX_FALLBACK_CHARS = 3000
#: Prefix of the action ids of our buttons; the listener matches on it.
ACTION_PREFIX = "hoc:"

Block = dict[str, Any]

# Bidi embeddings, overrides and isolates could visually reorder the markup around them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SAFE_SCHEMES = ("http", "https", "mailto")
# Everything a URL may keep as is; the rest (spaces, |, <, >, non-ASCII) is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
_ENTITY = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_TRAILING_PARTIAL = re.compile(r"(&[a-z]*|<[^>]*)$")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One Slack message: notification text and blocks."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """``text`` for mrkdwn: ``& < >`` become entities, bidi controls are dropped."""
    text = _BIDI_CONTROLS.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """What a user typed, from the mrkdwn Slack delivers: mentions dropped, links as their label."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "!")):
            return label or ""
        if target.startswith("#"):
            return f"#{label}" if label else ""
        return label or target

    text = _ENTITY.sub(replace, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_url(url: str) -> str | None:
    """``url`` fit for ``<url|label>`` (percent-encoded, ``&`` escaped), or None for other schemes."""
    url = _BIDI_CONTROLS.sub("", url).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in _SAFE_SCHEMES:
        return None
    return quote(url, safe=_URL_SAFE).replace("&", "&amp;")


def link(item: Link) -> str:
    """A link as ``<url|label>``, then its note; the label alone when the URL cannot be linked."""
    label = escape(item.label).replace("|", "¦").strip() or escape(item.url)
    note = f" {escape(item.note.strip())}" if item.note.strip() else ""
    url = safe_url(item.url)
    if url is None:
        return label + note
    return f"<{url}|{label}>{note}"


def fit_button_label(label: str, limit: int = MAX_BUTTON_CHARS) -> str:
    """A button label of at most ``limit`` UTF-16 units, cut with an ellipsis."""
    label = " ".join(_BIDI_CONTROLS.sub("", label).split())
    if utf16_len(label) <= limit:
        return label
    while utf16_len(label) > limit - 1:
        label = label[:-1]
    return label.rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Escaped chunks of at most ``limit`` characters, cut at a line end, else a space.

    Escaping happens before cutting and an entity is never cut in two; empty chunks are dropped.
    """
    whole = escape(text)
    if len(whole) <= limit:  # the usual case: one chunk
        return [whole.strip()] if whole.strip() else []
    units = [escape(c) for c in text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        while size + len(unit) > limit and current:
            cut = _cut_point(current)
            head, tail = current[:cut], current[cut:]
            if tail and tail[0] in ("\n", " "):
                tail = tail[1:]
            chunks.append("".join(head))
            current, size = tail, sum(len(u) for u in tail)
        current.append(unit)
        size += len(unit)
    chunks.append("".join(current))
    return [c.strip() for c in chunks if c.strip()]


def _cut_point(units: list[str]) -> int:
    for separator in ("\n", " "):
        for i in range(len(units) - 1, 0, -1):
            if units[i] == separator:
                return i
    return len(units)


def pack_lines(lines: Iterable[str], limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Lines of markup joined into chunks of at most ``limit`` characters (a longer line is dropped)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            continue
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button_element(button: Button, action_id: str) -> Block | None:
    """A Block Kit button whose value is the button's id; None when the id is too long to send."""
    if not button.id or len(button.id) > MAX_BUTTON_VALUE:
        return None
    label = fit_button_label(button.label) or fit_button_label(button.id)
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": button.id,
        "action_id": action_id,
    }


def reply_blocks(reply: Reply, *, key: str = "0", owner: str = "") -> list[Block]:
    """The blocks of one reply: title, text sections (context for notices), links, buttons.

    Args:
        reply: What to show.
        key: Distinguishes this reply's action ids from those of other replies on one surface.
        owner: User the buttons belong to, recorded in the actions block ids (a channel's other
            members may press them too).
    """
    blocks: list[Block] = []
    if reply.title:
        title = escape(" ".join(reply.title.split()))
        blocks.append(_section(f"*{title[: MAX_SECTION_CHARS - 2]}*"))
    make = _context if reply.kind == "notice" else _section
    blocks.extend(make(chunk) for chunk in split_text(reply.text))
    blocks.extend(_section(chunk) for chunk in pack_lines(f"• {link(item)}" for item in reply.links))
    elements = [
        element
        for i, button in enumerate(reply.buttons)
        if (element := button_element(button, f"{ACTION_PREFIX}{key}:{i}")) is not None
    ]
    for n, start in enumerate(range(0, len(elements), MAX_ACTIONS)):
        block: Block = {"type": "actions", "elements": elements[start : start + MAX_ACTIONS]}
        block["block_id"] = f"{ACTION_PREFIX}{key}:{n}:{owner}"[:255]
        blocks.append(block)
    return blocks


def block_owner(block_id: str) -> str:
    """The owner recorded by :func:`reply_blocks` in an actions block id ("" when there is none)."""
    if not block_id.startswith(ACTION_PREFIX):
        return ""
    parts = block_id.split(":", 3)
    return parts[3] if len(parts) == 4 else ""


def fallback_text(blocks: Sequence[Block], limit: int = MAX_FALLBACK_CHARS) -> str:
    """The notification text of a message: its section and context texts, cut cleanly."""
    texts: list[str] = []
    for block in blocks:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(e["text"] for e in block["elements"])
    text = "\n".join(texts)
    if len(text) > limit:
        text = _TRAILING_PARTIAL.sub("", text[: limit - 1]) + "…"
    return text


def render_messages(reply: Reply, *, owner: str = "") -> list[SlackMessage]:
    """A reply as one message, or several when it has more than 50 blocks; none when it is empty."""
    blocks = reply_blocks(reply, owner=owner)
    messages = []
    for start in range(0, len(blocks), MAX_MESSAGE_BLOCKS):
        part = blocks[start : start + MAX_MESSAGE_BLOCKS]
        messages.append(SlackMessage(fallback_text(part) or " ", part))
    return messages


def render_home(replies: Sequence[Reply], footer: str = "", *, owner: str = "") -> Block:
    """An App Home view showing ``replies`` one under the other, then ``footer`` as context."""
    blocks: list[Block] = []
    for i, reply in enumerate(replies):
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(reply_blocks(reply, key=str(i), owner=owner))
    tail = [_context(chunk) for chunk in split_text(footer)]
    blocks = blocks[: MAX_HOME_BLOCKS - len(tail)] + tail
    return {"type": "home", "blocks": blocks}
