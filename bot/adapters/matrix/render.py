"""Replies as Matrix ``m.notice`` events: an HTML ``formatted_body`` (user text escaped) and a plain ``body``.

Matrix has no buttons: they become a numbered list, each line led by its keycap emoji. A user answers
by typing the number or by reacting to the message with that emoji (see :func:`reaction_number`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.toolkit.text import RLM, is_rtl
from bot.core.messages import Button, Reply

#: Reactions that press buttons 1 to 10.
KEYCAPS = (*(f"{n}\ufe0f\u20e3" for n in range(1, 10)), "\U0001f51f")
#: Where a message keeps its buttons (id and label), so that a reaction to it can be read back later.
BUTTONS_FIELD = "org.hourofcode.buttons"
#: Largest event content sent at once: Matrix refuses events over 65,536 bytes, envelope included.
MAX_CONTENT = 48_000

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def number_label(index: int) -> str:
    """What stands before the ``index``-th button (from 1): its keycap emoji, or ``11.`` beyond ten."""
    return KEYCAPS[index - 1] if index <= len(KEYCAPS) else f"{index}."


def reaction_number(key: str) -> int | None:
    """The button number a reaction stands for (``2️⃣`` -> 2, ``🔟`` -> 10), or None for any other reaction."""
    key = key.strip().replace("\ufe0f", "")
    if key == "\U0001f51f":
        return 10
    if len(key) == 2 and key[1] == "\u20e3" and key[0] in "123456789":
        return int(key[0])
    return None


@dataclass(frozen=True, slots=True)
class Notice:
    """One event to send: its plain body, its HTML body and the buttons it offers."""

    body: str
    html: str
    buttons: tuple[Button, ...] = ()

    def content(self) -> dict[str, Any]:
        """The ``m.room.message`` content."""
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": self.body,
            "format": "org.matrix.custom.html",
            "formatted_body": self.html,
            # The bot mentions no one: clients must not notify anybody because of a name in an answer.
            "m.mentions": {},
        }
        if self.buttons:
            content[BUTTONS_FIELD] = [[b.id, b.label] for b in self.buttons]
        return content


def buttons_of(content: Any) -> tuple[Button, ...]:
    """The buttons a message of the bot offered, read back from its content (none when absent or malformed)."""
    raw = content.get(BUTTONS_FIELD) if isinstance(content, dict) else None
    if not isinstance(raw, list):
        return ()
    buttons = []
    for item in raw:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item):
            buttons.append(Button(item[0], item[1]))
    return tuple(buttons)


def render(reply: Reply, hint: str = "") -> list[Notice]:
    """``reply`` as notices: usually one; several only when it would not fit in one event.

    Args:
        reply: What to show.
        hint: A line said under the buttons, in the reply's language (how to press them).
    """
    rtl = is_rtl(reply.lang)
    # Each block is (plain, html); blocks are separated by a blank line.
    blocks: list[tuple[str, str]] = []
    if reply.title.strip():
        title = reply.title.strip()
        blocks.append((title, f"<strong>{_escape(title)}</strong>"))
    for paragraph in _BLANK_LINE.split(reply.text.strip("\n")):
        lines = paragraph.split("\n")
        if any(line.strip() for line in lines):
            blocks.append(("\n".join(lines), "<br>".join(_escape(line) for line in lines)))
    if reply.links:
        plain = "\n".join(f"• {link.label}{_note(link.note)}: {link.url}" for link in reply.links)
        items = "".join(
            f'<li><a href="{html.escape(link.url, quote=True)}">{_escape(link.label)}</a>'
            f"{_escape(_note(link.note))}</li>"
            for link in reply.links
        )
        blocks.append((plain, f"<ul>{items}</ul>"))
    if reply.buttons:
        lines = [f"{number_label(i)} {b.label or b.id}" for i, b in enumerate(reply.buttons, 1)]
        if hint:
            lines.append(hint)
        blocks.append(("\n".join(lines), "<br>".join(_escape(line) for line in lines)))
    if not blocks:
        blocks.append(("…", "…"))
    if rtl:
        blocks = [("\n".join(RLM + line for line in plain.split("\n")), markup) for plain, markup in blocks]
    return _pack(blocks, reply.buttons)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _note(note: str) -> str:
    return f" {note.strip()}" if note.strip() else ""


def _size(blocks: Sequence[tuple[str, str]]) -> int:
    plain = "\n\n".join(p for p, _ in blocks)
    markup = "<br><br>".join(h for _, h in blocks)
    return len(json.dumps(plain)) + len(json.dumps(markup))


def _pack(blocks: list[tuple[str, str]], buttons: tuple[Button, ...]) -> list[Notice]:
    """Blocks in as few notices as fit; the buttons go with the last one."""
    groups: list[list[tuple[str, str]]] = [[]]
    for block in blocks:
        if groups[-1] and _size([*groups[-1], block]) > MAX_CONTENT:
            groups.append([])
        if _size([block]) > MAX_CONTENT:
            # One paragraph larger than an event: cut its plain text, shown without markup.
            plain = block[0]
            step = MAX_CONTENT // 8
            for start in range(0, len(plain), step):
                piece = plain[start : start + step]
                groups[-1].append((piece, _escape(piece).replace("\n", "<br>")))
                groups.append([])
            continue
        groups[-1].append(block)
    groups = [g for g in groups if g]
    notices = []
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        notices.append(
            Notice(
                "\n\n".join(p for p, _ in group),
                "".join(h if h.startswith("<ul>") else f"<p>{h}</p>" for _, h in group),
                buttons if last else (),
            )
        )
    return notices
