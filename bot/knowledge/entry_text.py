"""The text of each entry in a parsed guide: paragraphs, sentence pieces and character-trigram profiles."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bot.core.knowledge import STEP_IDS, LinkRef
from bot.core.text import fold
from bot.knowledge.guide_parse import Block, Guide, Inline

_SENTENCE_END = frozenset(".!?;…‼‽؟।۔")
_SENTENCE_END_TIGHT = frozenset("。！？")
_CLOSERS = frozenset("\"'”’»)]」』）")


@dataclass(slots=True)
class Part:
    """A paragraph or a list item of an entry."""

    role: str  # text | item
    inline: Inline


@dataclass(slots=True)
class RawEntry:
    """An entry's title and paragraphs as the guide has them, with its sign-up button block if any."""

    id: str
    title: Inline
    parts: list[Part]
    button: Block | None = None


def _plain(text: str, line: int) -> Inline:
    return Inline(text, [], [], line)


def raw_entries(guide: Guide) -> dict[str, RawEntry]:
    """The entries of a guide by id: overview, signup, the steps and after-hour-of-code, those it has."""
    out: dict[str, RawEntry] = {}
    intro = [b for b in (guide.h1, guide.tagline) if b is not None]
    if intro or guide.front_title:
        title = (
            _plain(guide.front_title, guide.front_line)
            if guide.front_title
            else (intro[0].inline if intro else _plain("", 1))
        )
        out["overview"] = RawEntry("overview", title, [Part("text", b.inline) for b in intro])
    if guide.cta is not None:
        parts = [Part("text", guide.cta.title.inline)]
        parts += [Part(_role(b), b.inline) for b in guide.cta.body]
        button = guide.buttons[0] if guide.buttons else None
        out["signup"] = RawEntry("signup", guide.cta.title.inline, parts, button)
    for number, section in sorted(guide.steps.items()):
        parts = [Part(_role(b), b.inline) for b in section.body]
        out[STEP_IDS[number]] = RawEntry(STEP_IDS[number], section.title.inline, parts)
    if guide.after is not None:
        parts = [Part(_role(b), b.inline) for b in guide.after.body]
        out["after-hour-of-code"] = RawEntry("after-hour-of-code", guide.after.title.inline, parts)
    return out


def _role(block: Block) -> str:
    return "item" if block.kind == "item" else "text"


@dataclass(slots=True)
class OutLink:
    """A link of a piece of text, and the working link it resolved to (``ref``)."""

    label: str
    target: str
    line: int
    markup: str
    fake: bool = False
    ref: LinkRef | None = None


@dataclass(slots=True)
class Piece:
    """A sentence (or a whole paragraph) with its links; ``english`` when the reference's text."""

    text: str
    links: list[OutLink]
    english: bool = False
    gap: str = ""  # what separated it from the next sentence ("" in scripts written without spaces)


def sentence_spans(inline: Inline) -> list[tuple[int, int]]:
    """Sentence spans of the text; never inside a link label."""
    text = inline.text
    inside = [False] * (len(text) + 1)
    for link in inline.links:
        for index in range(link.start, link.end):
            inside[index] = True
    spans: list[tuple[int, int]] = []
    start = 0
    index = 0
    while index < len(text):
        ch = text[index]
        if ch in _SENTENCE_END or ch in _SENTENCE_END_TIGHT:
            end = index + 1
            while end < len(text) and (text[end] in _CLOSERS or text[end] in _SENTENCE_END):
                end += 1
            boundary = ch in _SENTENCE_END_TIGHT or end == len(text) or text[end] == " "
            if boundary and not inside[index]:
                spans.append((start, end))
                while end < len(text) and text[end] == " ":
                    end += 1
                start = end
                index = end
                continue
        index += 1
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def cut_piece(inline: Inline, span: tuple[int, int], next_start: int | None = None) -> Piece:
    """The text of ``inline`` in ``span`` with the links starting in it, and the gap up to ``next_start``."""
    start, end = span
    links = [
        OutLink(lk.label, lk.target, lk.line, lk.markup, lk.fake) for lk in inline.links if start <= lk.start < end
    ]
    gap = inline.text[end:next_start] if next_start is not None else ""
    return Piece(inline.text[start:end], links, gap=gap)


def trigrams(text: str) -> Counter[str]:
    """Character trigrams of the folded text, a space added at each end."""
    folded = f" {fold(text)} "
    return Counter(folded[i : i + 3] for i in range(len(folded) - 2))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two trigram profiles (0 when one is empty)."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def copy_piece(piece: Piece, *, english: bool, gap: str = "") -> Piece:
    """A copy of ``piece`` and its links, marked English or not, followed by ``gap``."""
    links = [OutLink(lk.label, lk.target, lk.line, lk.markup, lk.fake, lk.ref) for lk in piece.links]
    return Piece(piece.text, links, english, gap)
