"""Replies as Telegram HTML messages (split below 4,096 characters) and inline keyboards."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.adapters.toolkit.text import RLM, is_rtl, utf16_len
from bot.core.messages import Button, Reply

#: Longest message text Telegram accepts, in UTF-16 code units.
MAX_MESSAGE = 4096
#: Longest ``callback_data`` Telegram accepts, in bytes.
MAX_CALLBACK_DATA = 64
#: Buttons whose labels are at most this long may share a row with another one.
PAIR_LABEL = 20
#: Prefix of the short ids that stand for button ids too long for ``callback_data``.
SHORT_ID_PREFIX = "~"

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True, slots=True)
class KeyButton:
    """An inline keyboard button: its label and the ``callback_data`` sent back when pressed."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply ready to send: message texts in order, the keyboard going with the last one."""

    chunks: tuple[str, ...]
    keyboard: tuple[tuple[KeyButton, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class _Line:
    """One line of a message before markup: plain text, bold text, or a link."""

    text: str
    kind: str = "text"
    url: str = ""
    note: str = ""


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>``: all Telegram's HTML mode needs outside attributes."""
    return html.escape(text, quote=False)


class CallbackIds:
    """Maps button ids longer than 64 bytes to short ids and back (kept in memory, most recent first).

    A short id whose mapping was lost (restart, another replica) comes back unchanged; the handler
    then answers that the button is no longer valid.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, button_id: str) -> str:
        """``button_id`` itself when it fits in ``callback_data``, else a short id for it."""
        if len(button_id.encode()) <= MAX_CALLBACK_DATA and not button_id.startswith(SHORT_ID_PREFIX):
            return button_id
        digest = hashlib.sha256(button_id.encode()).digest()
        short = SHORT_ID_PREFIX + base64.urlsafe_b64encode(digest[:18]).decode()
        with self._lock:
            self._ids[short] = button_id
            self._ids.move_to_end(short)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
        return short

    def decode(self, data: str) -> str:
        """The button id behind ``data`` (``data`` itself when it is not a known short id)."""
        with self._lock:
            return self._ids.get(data, data)


def keyboard(
    buttons: Sequence[Button],
    encode: Callable[[str], str] = lambda button_id: button_id,
) -> tuple[tuple[KeyButton, ...], ...]:
    """Buttons in rows: two short labels share a row, a long label has its own."""
    rows: list[tuple[KeyButton, ...]] = []
    pending: KeyButton | None = None
    for button in buttons:
        key = KeyButton(button.label or button.id, encode(button.id))
        if len(key.label) > PAIR_LABEL:
            if pending is not None:
                rows.append((pending,))
                pending = None
            rows.append((key,))
        elif pending is None:
            pending = key
        else:
            rows.append((pending, key))
            pending = None
    if pending is not None:
        rows.append((pending,))
    return tuple(rows)


def render(
    reply: Reply,
    encode: Callable[[str], str] = lambda button_id: button_id,
    *,
    markup: bool = True,
    limit: int = MAX_MESSAGE,
) -> Rendered:
    """A reply as Telegram messages.

    Args:
        reply: What to show.
        encode: Turns a button id into ``callback_data`` (see CallbackIds.encode).
        markup: HTML (bold title, ``<a href>`` links); False gives plain text, the fallback when
            Telegram refuses the markup.
        limit: Longest message, in UTF-16 code units, markup included.

    Returns:
        The message texts, cut at paragraph boundaries (then lines, then words) so that none
        exceeds ``limit`` and no tag or entity is ever cut, and the keyboard.
    """
    rtl = is_rtl(reply.lang)
    paragraphs: list[list[_Line]] = []
    if reply.title.strip():
        paragraphs.append([_Line(reply.title.strip(), "bold")])
    for block in _BLANK_LINE.split(reply.text.strip("\n")):
        lines = [_Line(line) for line in block.split("\n")]
        if any(line.text.strip() for line in lines):
            paragraphs.append(lines)
    if reply.links:
        paragraphs.append([_Line(link.label, "link", link.url, link.note.strip()) for link in reply.links])
    chunks = _pack(paragraphs, rtl, markup, limit)
    rows = keyboard(reply.buttons, encode)
    if not chunks and rows:
        chunks = ["…"]
    return Rendered(tuple(chunks), rows)


def _line(line: _Line, rtl: bool, markup: bool) -> str:
    prefix = RLM if rtl else ""
    note = f" {line.note}" if line.note else ""
    if not markup:
        if line.kind == "link":
            return f"{prefix}• {line.text}{note}: {line.url}"
        return prefix + line.text
    if line.kind == "bold":
        return f"{prefix}<b>{escape(line.text)}</b>"
    if line.kind == "link":
        return f'{prefix}• <a href="{html.escape(line.url, quote=True)}">{escape(line.text)}</a>{escape(note)}'
    return prefix + escape(line.text)


def _pack(paragraphs: list[list[_Line]], rtl: bool, markup: bool, limit: int) -> list[str]:
    # Segments carry the separator that precedes them: a blank line between paragraphs, a line
    # break inside one; the separator is dropped at the start of a message.
    segments: list[tuple[str, str]] = []
    for paragraph in paragraphs:
        rendered = [_line(line, rtl, markup) for line in paragraph]
        whole = "\n".join(rendered)
        if utf16_len(whole) <= limit:
            segments.append(("\n\n", whole))
            continue
        separator = "\n\n"
        for line, text in zip(paragraph, rendered, strict=True):
            if utf16_len(text) <= limit:
                segments.append((separator, text))
            else:
                for piece in _cut(line, rtl, markup, limit):
                    segments.append((separator, piece))
                    separator = " " if line.kind != "link" else "\n"
            separator = "\n"
    chunks: list[str] = []
    current = ""
    for separator, text in segments:
        if current and utf16_len(current) + utf16_len(separator) + utf16_len(text) <= limit:
            current += separator + text
        else:
            if current:
                chunks.append(current)
            current = text
    if current:
        chunks.append(current)
    return chunks


def _cut(line: _Line, rtl: bool, markup: bool, limit: int) -> list[str]:
    """A line too long for one message, cut between words (inside a word only when it must)."""
    if line.kind == "link":
        # A link longer than a message cannot be shown as one; show its text and address plainly.
        note = f" {line.note}" if line.note else ""
        line = _Line(f"{line.text}{note}: {line.url}")
    overhead = utf16_len(_line(_Line("", line.kind), rtl, markup))
    budget = limit - overhead
    pieces: list[str] = []
    words = re.split(r"(\s+)", line.text)
    current = ""
    size = 0
    for word in words:
        cost = _cost(word, markup)
        if size + cost <= budget:
            current += word
            size += cost
            continue
        if current.strip():
            pieces.append(current.strip())
        current, size = "", 0
        if word.isspace():
            continue
        while _cost(word, markup) > budget:
            head, word = _split_word(word, budget, markup)
            pieces.append(head)
        current, size = word, _cost(word, markup)
    if current.strip():
        pieces.append(current.strip())
    return [_line(_Line(piece, line.kind), rtl, markup) for piece in pieces]


def _cost(text: str, markup: bool) -> int:
    return utf16_len(escape(text) if markup else text)


def _split_word(word: str, budget: int, markup: bool) -> tuple[str, str]:
    size = 0
    for index, char in enumerate(word):
        size += _cost(char, markup)
        if size > budget:
            return word[:index], word[index:]
    return word, ""
