"""Guide markdown -> knowledge entries: structure from markdown-it tokens, damage reported and repaired."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rapidfuzz import fuzz

from bot.core.knowledge import ENTRY_IDS, STEP_IDS, LinkRef, LinkTable
from bot.core.text import fold

#: Fields of an entry's content that the guide provides; a rebuild rewrites exactly these.
GUIDE_FIELDS: tuple[str, ...] = ("title", "answer", "links", "fallback", "source")
#: Fields curated by hand; a rebuild never touches them. ``title_fixed`` and ``answer_fixed`` are
#: shown instead of the guide's title and answer, ``labels_fixed`` (link key or url -> label) instead of
#: the guide's link labels: the way to translate what the guide left in English, or to correct it.
CURATED_FIELDS: tuple[str, ...] = ("questions", "keywords", "title_fixed", "answer_fixed", "labels_fixed")
#: Language of the reference guide that translations are compared with.
SOURCE_LANG = "en"

_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
# Template syntax sits on top of markdown: `{{ name }}` and ERB `<%= ... %>` (sometimes with its
# angle brackets lost). Markdown cannot parse a link whose target has spaces, so each occurrence is
# swapped for a space-free token before parsing and looked up again afterwards.
_PLACEHOLDER = re.compile(r"\{\{([^{}\n]*)\}\}")
_ERB = re.compile(r"<?%=([^%\n]*)%>?")
_TOKEN = re.compile(r"hoc(ph|erb):(\d+)")
_TOKEN_FULL = re.compile(r"hoc(ph|erb):(\d+)")
_ERB_PATH = re.compile(r"""resolve_url\(\s*['"]([^'"]+)['"]\s*\)""")
# Inside a text token, anything shaped like a link or an HTML tag is damage markdown did not parse.
_FAKE_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]*)\)")
_STRAY_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")
_BR = re.compile(r"^<\s*br\s*/?\s*>$", re.IGNORECASE)
_HTML_OPEN_A = re.compile(r"^<\s*a\b([^>]*)>$", re.IGNORECASE)
_HTML_CLOSE_A = re.compile(r"^<\s*/\s*a\s*>$", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_STEP_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(?:[.．。)）\-–—:：、]\s*|\s+)")
_SITE_PREFIX = re.compile(r"^/\{country\}(?:\[/\{lang\}\])?")
_SENTENCE_END = frozenset(".!?;…‼‽؟।۔")
_SENTENCE_END_TIGHT = frozenset("。！？")
_CLOSERS = frozenset("\"'”’»)]」』）")

# Similarity (rapidfuzz ratio on folded text) above which a sentence is the English reference's.
_SAME_TEXT = 86.0
# An English reference sentence found inside a longer translated sentence.
_FRAGMENT = 95.0
# Shortest folded text compared at all: short strings (names, "Facebook") match by accident.
_MIN_COMPARE = 12
_MIN_FRAGMENT = 24
# Character-trigram test for English text that is not in the reference (an outdated sentence).
_MIN_TRIGRAM_TEXT = 40
_TRIGRAM_RATIO = 1.25
_MIN_OWN_TEXT = 200


@dataclass(frozen=True, slots=True)
class BuiltContent:
    """The guide fields of one language of an entry."""

    title: str
    answer: str
    links: tuple[LinkRef, ...]
    source: str
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class BuiltEntry:
    """An entry extracted from one guide file."""

    id: str
    step: int | None
    lang: str
    content: BuiltContent


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Entries extracted from one guide, with the damage found (``file:line: message``)."""

    lang: str
    entries: tuple[BuiltEntry, ...]
    warnings: tuple[str, ...]


class GuideError(Exception):
    """The file is not a guide at all (no structure could be found)."""


# --------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class _Link:
    label: str
    target: str
    start: int
    end: int
    line: int
    markup: str
    fake: bool = False


@dataclass(slots=True)
class _Inline:
    text: str
    links: list[_Link]
    strays: list[tuple[int, int, str]]
    line: int


@dataclass(slots=True)
class _Block:
    kind: str  # heading | paragraph | item | button
    level: int
    inline: _Inline
    line: int
    key: str = ""


@dataclass(slots=True)
class _Section:
    title: _Block
    body: list[_Block] = field(default_factory=list)
    number: int | None = None


@dataclass(slots=True)
class Guide:
    """The structure of a guide page (parsed, not yet checked against links or a reference)."""

    name: str
    front_title: str | None
    front_line: int
    h1: _Block | None
    tagline: _Block | None
    cta: _Section | None
    steps: dict[int, _Section]
    after: _Section | None
    buttons: list[_Block]
    placeholders: list[str]
    erb: list[str]
    notes: list[tuple[int, str]]


class _Sink:
    """Collects ``(line, message)`` pairs once each."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []
        self._seen: set[tuple[int, str]] = set()

    def add(self, line: int, message: str) -> None:
        item = (line, message)
        if item not in self._seen:
            self._seen.add(item)
            self.items.append(item)


def lang_from_filename(path: str | Path) -> str | None:
    """Language code of a guide file named after it (``fr.md`` -> ``fr``, ``pt-BR.md`` -> ``pt-BR``)."""
    name = Path(path).name
    stem = name.split(".", 1)[0]
    return normalize_lang(stem) if _LANG_CODE.match(stem) else None


def normalize_lang(code: str) -> str:
    """``pt_br`` -> ``pt-BR``: lower-case language, upper-case two-letter region."""
    if not _LANG_CODE.match(code):
        raise ValueError(f"not a language code: {code!r}")
    parts = code.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join(out)


def _split_front_matter(text: str, sink: _Sink) -> tuple[str, str | None, int]:
    """Blank out the front matter (keeping line numbers) and return its title."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text, None, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return text, None, 0
    raw = "\n".join(lines[1:end])
    title: str | None = None
    title_line = 1
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        sink.add(1, "front matter is not valid YAML: ignored")
        data = None
    if isinstance(data, dict) and isinstance(data.get("title"), str) and data["title"].strip():
        title = " ".join(data["title"].split())
        for offset, line in enumerate(lines[1:end], start=2):
            if line.lstrip().startswith("title"):
                title_line = offset
                break
    blanked = [""] * (end + 1) + lines[end + 1 :]
    return "\n".join(blanked), title, title_line


class _InlineReader:
    """Turns an inline token into plain text with link spans, reporting markup damage."""

    _TEXT_DAMAGE = re.compile(f"{_FAKE_LINK.pattern}|{_STRAY_TAG.pattern}|{_TOKEN.pattern}")

    def __init__(self, guide: Guide, sink: _Sink) -> None:
        self.guide = guide
        self.sink = sink
        self._raw: list[str] = []
        self._size = 0
        self._links: list[_Link] = []
        self._strays: list[tuple[int, int, str]] = []
        self._open: tuple[str, int, int, str] | None = None

    def restore(self, text: str) -> str:
        """Put the original template syntax back, for messages."""

        def back(match: re.Match[str]) -> str:
            index = int(match.group(2))
            if match.group(1) == "ph":
                return "{{" + self.guide.placeholders[index] + "}}"
            return "%=" + self.guide.erb[index] + "%"

        return _TOKEN.sub(back, text)

    def read(self, token: Token) -> _Inline:
        """Plain text, links and stray ``</a>`` positions of an inline token."""
        assert token.map is not None
        first_line = token.map[0] + 1
        line = first_line
        self._raw, self._size, self._links, self._strays, self._open = [], 0, [], [], None
        for child in token.children or []:
            kind = child.type
            if kind in ("text", "text_special", "code_inline"):
                self._text(child.content, line)
            elif kind in ("softbreak", "hardbreak"):
                self._emit(" ")
                line += 1
            elif kind == "link_open":
                self._close()
                href = str(child.attrs.get("href", ""))
                self._open = (href, self._size, line, f"({self.restore(href)})")
            elif kind == "link_close":
                self._close()
            elif kind == "html_inline":
                self._html(child.content.strip(), line)
            elif kind == "image":
                self.sink.add(line, "image removed")
        self._close()
        return _finish("".join(self._raw), self._links, self._strays, first_line)

    def _emit(self, text: str) -> None:
        self._raw.append(text)
        self._size += len(text)

    def _close(self) -> None:
        if self._open is None:
            return
        target, start, line, markup = self._open
        label = "".join(self._raw)[start : self._size]
        self._links.append(_Link(label, target, start, self._size, line, markup))
        self._open = None

    def _html(self, tag: str, line: int) -> None:
        if _BR.match(tag):
            self._emit(" ")
        elif match := _HTML_OPEN_A.match(tag):
            self._close()
            href_match = _HREF.search(match.group(1))
            href = next((g for g in href_match.groups() if g is not None), "") if href_match else ""
            self.sink.add(line, f"raw HTML link {self.restore(tag)}: HTML removed, its text kept")
            self._open = (href.strip(), self._size, line, self.restore(tag))
        elif _HTML_CLOSE_A.match(tag) and self._open is not None:
            self._close()
        elif _HTML_CLOSE_A.match(tag):
            self._strays.append((self._size, line, tag))
            self.sink.add(line, f'stray HTML "{tag}" removed')
        else:
            self.sink.add(line, f'raw HTML "{self.restore(tag)}" removed')

    def _text(self, text: str, line: int) -> None:
        pos = 0
        for match in self._TEXT_DAMAGE.finditer(text):
            self._emit(text[pos : match.start()])
            pos = match.end()
            whole = match.group(0)
            if match.group(1) is not None and self._open is None:
                # Escaped brackets (or a target markdown refused): text that was meant as a link.
                start = self._size
                self._emit(match.group(1))
                markup = self.restore(whole)
                self._links.append(_Link(match.group(1), match.group(2), start, self._size, line, markup, True))
            elif match.group(4) is not None:
                if match.group(3) == "/" and match.group(4).lower() == "a":
                    self._strays.append((self._size, line, whole))
                    self.sink.add(line, f'stray HTML "{whole}" removed')
                elif not _BR.match(whole):
                    self.sink.add(line, f'raw HTML "{self.restore(whole)}" removed')
            elif match.group(5) is not None:
                self.sink.add(line, f"template value {self.restore(whole)} in running text removed")
            else:
                self._emit(whole)
        self._emit(text[pos:])


def _finish(raw: str, links: list[_Link], strays: list[tuple[int, int, str]], line: int) -> _Inline:
    """Collapse whitespace, moving link spans and stray markers along."""
    out: list[str] = []
    mapping = [0] * (len(raw) + 1)
    space = True
    for index, ch in enumerate(raw):
        mapping[index] = len(out)
        if ch.isspace():
            if not space:
                out.append(" ")
                space = True
        else:
            out.append(ch)
            space = False
    mapping[len(raw)] = len(out)
    text = "".join(out).rstrip(" ")
    limit = len(text)
    moved: list[_Link] = []
    for link in links:
        start, end = min(mapping[link.start], limit), min(mapping[link.end], limit)
        while start < end and text[start] == " ":
            start += 1
        while end > start and text[end - 1] == " ":
            end -= 1
        moved.append(_Link(text[start:end], link.target, start, end, link.line, link.markup, link.fake))
    markers = [(min(mapping[pos], limit), ln, tag) for pos, ln, tag in strays]
    return _Inline(text, moved, markers, line)


def _heading_number(text: str) -> tuple[int | None, str]:
    match = _STEP_NUMBER.match(text)
    if not match:
        return None, text
    rest = text[match.end() :].strip()
    if not rest:
        return None, text
    return int(match.group(1)), rest


def _strip_number(inline: _Inline) -> tuple[int | None, _Inline]:
    number, rest = _heading_number(inline.text)
    if number is None:
        return None, inline
    cut = len(inline.text) - len(rest)
    links = [
        _Link(lk.label, lk.target, lk.start - cut, lk.end - cut, lk.line, lk.markup, lk.fake)
        for lk in inline.links
        if lk.start >= cut
    ]
    strays = [(max(0, pos - cut), ln, tag) for pos, ln, tag in inline.strays]
    return number, _Inline(rest, links, strays, inline.line)


def parse_guide(text: str, *, name: str = "guide.md") -> Guide:
    """Parse a guide page into its structure.

    Args:
        text: The markdown of the page (front matter, template placeholders and all).
        name: File name used in messages.

    Returns:
        The page structure; damage found while reading markup is in ``notes``.

    Raises:
        GuideError: When no heading structure at all can be found.
    """
    sink = _Sink()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    body, front_title, front_line = _split_front_matter(text, sink)
    placeholders: list[str] = []
    erb: list[str] = []

    def swap_placeholder(match: re.Match[str]) -> str:
        placeholders.append(match.group(1))
        return f"hocph:{len(placeholders) - 1}"

    def swap_erb(match: re.Match[str]) -> str:
        erb.append(match.group(1))
        return f"hocerb:{len(erb) - 1}"

    body = _ERB.sub(swap_erb, _PLACEHOLDER.sub(swap_placeholder, body))
    guide = Guide(name, front_title, front_line, None, None, None, {}, None, [], placeholders, erb, [])
    reader = _InlineReader(guide, sink)
    blocks = _blocks(MarkdownIt("commonmark").parse(body), reader, sink)
    _structure(guide, blocks, sink)
    guide.notes = sink.items
    if guide.h1 is None and guide.cta is None and not guide.steps:
        raise GuideError(f"{name}: no guide structure found (no H1, no H2 call to action, no steps)")
    return guide


def _blocks(tokens: Sequence[Token], reader: _InlineReader, sink: _Sink) -> list[_Block]:
    blocks: list[_Block] = []
    list_depth = 0
    heading_level = 0
    for token in tokens:
        line = token.map[0] + 1 if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "heading_open":
            heading_level = int(token.tag[1:])
        elif token.type == "heading_close":
            heading_level = 0
        elif token.type == "html_block":
            content = token.content.strip()
            if content and not _BR.match(content):
                sink.add(line, f'raw HTML block "{reader.restore(content)[:60]}" removed')
        elif token.type == "inline":
            only = _TOKEN_FULL.fullmatch(token.content.strip())
            if only and only.group(1) == "ph" and not heading_level:
                key = reader.guide.placeholders[int(only.group(2))].strip()
                blocks.append(_Block("button", 0, _Inline("", [], [], line), line, key=key))
                continue
            inline = reader.read(token)
            if heading_level:
                blocks.append(_Block("heading", heading_level, inline, line))
            elif inline.text:
                blocks.append(_Block("item" if list_depth else "paragraph", 0, inline, line))
    return blocks


def _structure(guide: Guide, blocks: list[_Block], sink: _Sink) -> None:
    state = "top"
    current: _Section | None = None
    ordinal = 0
    for block in blocks:
        if block.kind == "button":
            guide.buttons.append(block)
            continue
        if block.kind == "heading" and block.level == 1:
            if guide.h1 is None and state == "top":
                guide.h1 = block
                state = "intro"
            else:
                sink.add(block.line, "extra H1 ignored")
            continue
        if block.kind == "heading" and block.level == 2:
            if state in ("top", "intro"):
                guide.cta = _Section(block)
                current = guide.cta
                state = "cta"
            elif state in ("cta", "steps") and guide.steps:
                guide.after = _Section(block)
                current = guide.after
                state = "after"
            else:
                sink.add(block.line, "extra H2 ignored")
                current = None
            continue
        if block.kind == "heading":
            if state == "intro" and guide.tagline is None:
                guide.tagline = block
            elif state in ("cta", "steps"):
                ordinal += 1
                number, inline = _strip_number(block.inline)
                if number is None:
                    sink.add(block.line, f"step heading without a number: taken as step {ordinal}")
                    number = ordinal
                if number in guide.steps or number not in STEP_IDS:
                    sink.add(block.line, f"step {number} is not a step 1-5 or appears twice: ignored")
                    current = None
                else:
                    current = _Section(_Block("heading", block.level, inline, block.line), number=number)
                    guide.steps[number] = current
                state = "steps"
            elif current is not None:
                current.body.append(_Block("paragraph", 0, block.inline, block.line))
            continue
        if state == "intro" and guide.tagline is None:
            guide.tagline = block
        elif current is not None:
            current.body.append(block)
    if guide.h1 is None:
        sink.add(1, "no H1 heading")
    if guide.cta is None:
        sink.add(1, "no H2 call to action")
    missing = [n for n in STEP_IDS if n not in guide.steps]
    if missing:
        sink.add(1, "missing step(s) " + ", ".join(str(n) for n in missing))
    if guide.after is None:
        sink.add(1, 'no H2 "after the Hour of Code" section')


# --------------------------------------------------------------------------- entries


@dataclass(slots=True)
class _Part:
    role: str  # text | item
    inline: _Inline


@dataclass(slots=True)
class _Raw:
    id: str
    title: _Inline
    parts: list[_Part]
    button: _Block | None = None


def _plain(text: str, line: int) -> _Inline:
    return _Inline(text, [], [], line)


def _raw_entries(guide: Guide) -> dict[str, _Raw]:
    out: dict[str, _Raw] = {}
    intro = [b for b in (guide.h1, guide.tagline) if b is not None]
    if intro or guide.front_title:
        title = (
            _plain(guide.front_title, guide.front_line)
            if guide.front_title
            else (intro[0].inline if intro else _plain("", 1))
        )
        out["overview"] = _Raw("overview", title, [_Part("text", b.inline) for b in intro])
    if guide.cta is not None:
        parts = [_Part("text", guide.cta.title.inline)]
        parts += [_Part(_role(b), b.inline) for b in guide.cta.body]
        button = guide.buttons[0] if guide.buttons else None
        out["signup"] = _Raw("signup", guide.cta.title.inline, parts, button)
    for number, section in sorted(guide.steps.items()):
        parts = [_Part(_role(b), b.inline) for b in section.body]
        out[STEP_IDS[number]] = _Raw(STEP_IDS[number], section.title.inline, parts)
    if guide.after is not None:
        parts = [_Part(_role(b), b.inline) for b in guide.after.body]
        out["after-hour-of-code"] = _Raw("after-hour-of-code", guide.after.title.inline, parts)
    return out


def _role(block: _Block) -> str:
    return "item" if block.kind == "item" else "text"


@dataclass(slots=True)
class _OutLink:
    label: str
    target: str
    line: int
    markup: str
    fake: bool = False
    ref: LinkRef | None = None


@dataclass(slots=True)
class _Piece:
    text: str
    links: list[_OutLink]
    english: bool = False
    gap: str = ""  # what separated it from the next sentence ("" in scripts written without spaces)


def _sentences(inline: _Inline) -> list[tuple[int, int]]:
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


def _piece(inline: _Inline, span: tuple[int, int], next_start: int | None = None) -> _Piece:
    start, end = span
    links = [
        _OutLink(lk.label, lk.target, lk.line, lk.markup, lk.fake) for lk in inline.links if start <= lk.start < end
    ]
    gap = inline.text[end:next_start] if next_start is not None else ""
    return _Piece(inline.text[start:end], links, gap=gap)


def _trigrams(text: str) -> Counter[str]:
    folded = f" {fold(text)} "
    return Counter(folded[i : i + 3] for i in range(len(folded) - 2))


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


@dataclass(slots=True)
class _RefSentence:
    folded: str
    part: int
    piece: _Piece


@dataclass(slots=True)
class _RefEntry:
    raw: _Raw
    title: str
    parts: list[_Piece]
    sentences: list[_RefSentence]
    lines: list[int]


class _Builder:
    """Builds the entries of one guide against the link table and the English reference."""

    def __init__(
        self,
        guide: Guide,
        lang: str,
        links: LinkTable,
        reference: Guide | None,
        source_name: str,
    ) -> None:
        self.guide = guide
        self.lang = lang
        self.links = links
        self.sink = _Sink()
        for line, message in guide.notes:
            self.sink.add(line, message)
        self.source_name = source_name
        use_reference = reference is not None and lang.split("-")[0] != SOURCE_LANG
        self.reference = reference if use_reference else None
        self.ref_entries: dict[str, _RefEntry] = {}
        if self.reference is not None:
            for entry_id, raw in _raw_entries(self.reference).items():
                parts = [_piece(p.inline, (0, len(p.inline.text))) for p in raw.parts]
                sentences = [
                    _RefSentence(fold(p.inline.text[a:b]), index, _piece(p.inline, (a, b)))
                    for index, p in enumerate(raw.parts)
                    for a, b in _sentences(p.inline)
                ]
                for piece in parts:
                    self._resolve_ok(piece.links, self.reference)
                for sentence in sentences:
                    self._resolve_ok(sentence.piece.links, self.reference)
                lines = [p.inline.line for p in raw.parts]
                self.ref_entries[entry_id] = _RefEntry(raw, raw.title.text, parts, sentences, lines)
        self._own: Counter[str] = Counter()
        self._english = (
            _trigrams(" ".join(self._all_texts(self.reference))) if self.reference is not None else Counter()
        )

    @staticmethod
    def _all_texts(guide: Guide) -> list[str]:
        texts = [guide.front_title or ""]
        for raw in _raw_entries(guide).values():
            texts.append(raw.title.text)
            texts.extend(p.inline.text for p in raw.parts)
        return texts

    # -- link targets

    def _classify(self, link: _OutLink, guide: Guide | None = None) -> tuple[LinkRef | None, str | None, str | None]:
        """(working link, problem, ERB path) of a link's target in ``guide`` (default: this one)."""
        guide = guide or self.guide
        token = _TOKEN_FULL.fullmatch(link.target)
        if token and token.group(1) == "ph":
            name = guide.placeholders[int(token.group(2))].strip()
            if name in self.links:
                return LinkRef(link.label, key=name), None, None
            return None, f"unknown placeholder {{{{ {name} }}}} (not in links.yaml)", None
        if token:
            expr = guide.erb[int(token.group(2))].strip()
            path = _ERB_PATH.search(expr)
            return None, f"ERB leftover (%= {expr} %)", path.group(1) if path else None
        if _is_url(link.target):
            # A link that links.yaml replaces (a share link, a page to flag) becomes its placeholder.
            key = self.links.key_for_url(link.target)
            ref = LinkRef(link.label, key=key) if key else LinkRef(link.label, url=link.target)
            return ref, None, None
        shown = self._restore(link.target) or "(empty)"
        return None, f'target "{shown}" is not a URL', None

    def _restore(self, text: str) -> str:
        return _InlineReader(self.guide, self.sink).restore(text)

    def _resolve_ok(self, links: list[_OutLink], guide: Guide) -> None:
        for link in links:
            link.ref, _, _ = self._classify(link, guide)

    # -- entries

    def build(self) -> list[BuiltEntry]:
        raws = _raw_entries(self.guide)
        self._own = _trigrams(" ".join(self._own_texts(raws)))
        entries: list[BuiltEntry] = []
        for entry_id in ENTRY_IDS:
            raw = raws.get(entry_id)
            if raw is None:
                continue
            content = self._entry(raw)
            if content is not None:
                step = next((n for n, sid in STEP_IDS.items() if sid == entry_id), None)
                entries.append(BuiltEntry(entry_id, step, self.lang, content))
        return entries

    def _own_texts(self, raws: Mapping[str, _Raw]) -> list[str]:
        """Text of this guide that is not the English reference's (its own language)."""
        texts = [self.guide.front_title or ""]
        for raw in raws.values():
            ref = self.ref_entries.get(raw.id)
            if ref is None or fuzz.ratio(fold(raw.title.text), fold(ref.title)) < _SAME_TEXT:
                texts.append(raw.title.text)
            for part in raw.parts:
                for a, b in _sentences(part.inline):
                    sentence = part.inline.text[a:b]
                    if self._match(fold(sentence), raw.id) is None:
                        texts.append(sentence)
        return texts

    def _match(self, folded: str, entry_id: str) -> _RefSentence | None:
        ref = self.ref_entries.get(entry_id)
        if ref is None or len(folded) < _MIN_COMPARE:
            return None
        best: _RefSentence | None = None
        best_score = 0.0
        for sentence in ref.sentences:
            score = fuzz.ratio(folded, sentence.folded)
            if score > best_score:
                best, best_score = sentence, score
        return best if best_score >= _SAME_TEXT else None

    def _fragment(self, folded: str, entry_id: str) -> _RefSentence | None:
        ref = self.ref_entries.get(entry_id)
        if ref is None:
            return None
        for sentence in ref.sentences:
            long_enough = len(sentence.folded) >= _MIN_FRAGMENT and len(folded) > len(sentence.folded)
            if long_enough and fuzz.partial_ratio(sentence.folded, folded) >= _FRAGMENT:
                return sentence
        return None

    def _looks_english(self, text: str) -> bool:
        """Trigram profile closer to the English reference than to the rest of this guide."""
        if not self._english or len(fold(text)) < _MIN_TRIGRAM_TEXT:
            return False
        mine = _trigrams(text)
        own = self._own - mine
        if sum(own.values()) < _MIN_OWN_TEXT:
            return False
        return _cosine(mine, self._english) > _cosine(mine, own) * _TRIGRAM_RATIO

    def _ref_line(self, entry_id: str, part: int) -> str:
        ref = self.ref_entries[entry_id]
        assert self.reference is not None
        return f"{self.reference.name}:{ref.lines[part]}"

    def _title(self, raw: _Raw) -> tuple[str, bool]:
        text = raw.title.text
        ref = self.ref_entries.get(raw.id)
        if ref is None:
            return text, False
        candidates = [ref.title]
        if raw.id == "overview" and self.reference is not None and self.reference.front_title:
            candidates = [self.reference.front_title, *candidates]
        folded = fold(text)
        if len(folded) >= _MIN_COMPARE:
            for candidate in candidates:
                if fuzz.ratio(folded, fold(candidate)) >= _SAME_TEXT:
                    self.sink.add(raw.title.line, f'title left in English: "{_short(text)}"')
                    return candidate, True
        return text, False

    def _part(self, raw: _Raw, index: int, part: _Part) -> tuple[list[_Piece], bool]:
        """The pieces of one paragraph, English sentences replaced by the reference's."""
        inline = part.inline
        spans = _sentences(inline)
        starts = [a for a, _ in spans[1:]] + [None]
        pieces = [_piece(inline, span, nxt) for span, nxt in zip(spans, starts, strict=True)]
        if self.reference is None or raw.id not in self.ref_entries:
            return pieces, False
        ref = self.ref_entries[raw.id]
        matches = [self._match(fold(p.text), raw.id) for p in pieces]
        fragments = [None if m else self._fragment(fold(p.text), raw.id) for p, m in zip(pieces, matches, strict=True)]
        counted = [len(fold(p.text)) >= _MIN_COMPARE for p in pieces]
        english = [m is not None for m in matches]
        whole: int | None = None
        if any(fragments):
            first = next(f for f in fragments if f is not None)
            whole = first.part
        elif english and all(e or not c for e, c in zip(english, counted, strict=True)) and any(english):
            parts_hit = Counter(m.part for m in matches if m is not None)
            whole = parts_hit.most_common(1)[0][0]
        if whole is None and not any(english):
            for piece in pieces:
                if self._looks_english(piece.text):
                    same = self._same_position(raw, index)
                    if same is not None:
                        whole = same
                        self.sink.add(
                            inline.line,
                            "paragraph in English but not the reference's (outdated?): "
                            f'"{_short(inline.text)}" replaced by the English reference'
                            f" ({self._ref_line(raw.id, same)})",
                        )
                        return [_copy(ref.parts[same], english=True)], True
                    self.sink.add(inline.line, f'paragraph seems left in English: "{_short(inline.text)}"')
                    piece.english = True
            return pieces, any(p.english for p in pieces)
        if whole is not None:
            self.sink.add(
                inline.line,
                f'paragraph left in English: "{_short(inline.text)}"'
                f" replaced by the English reference ({self._ref_line(raw.id, whole)})",
            )
            for piece in pieces:
                self._report_links(piece.links)
            return [_copy(ref.parts[whole], english=True)], True
        out: list[_Piece] = []
        for piece, match in zip(pieces, matches, strict=True):
            if match is None:
                out.append(piece)
                continue
            self.sink.add(
                inline.line,
                f'sentence left in English: "{_short(piece.text)}"'
                f" replaced by the English reference's ({self._ref_line(raw.id, match.part)})",
            )
            self._report_links(piece.links)
            out.append(_copy(match.piece, english=True, gap=piece.gap))
        return out, True

    def _same_position(self, raw: _Raw, index: int) -> int | None:
        ref = self.ref_entries[raw.id]
        role = raw.parts[index].role
        position = sum(1 for p in raw.parts[:index] if p.role == role)
        same_role = [i for i, p in enumerate(ref.raw.parts) if p.role == role]
        return same_role[position] if position < len(same_role) else None

    def _report_links(self, links: list[_OutLink]) -> None:
        """Report damaged links of text that is being replaced (the damage is still in the guide)."""
        for link in links:
            ref, problem, _ = self._classify(link)
            what = "text that looks like a link (escaped markup)" if link.fake else "broken link"
            if ref is None:
                self.sink.add(link.line, f'{what} "{link.label}" {link.markup}: {problem}')
            elif link.fake:
                self.sink.add(link.line, f'{what} "{link.label}" {link.markup}')

    def _entry(self, raw: _Raw) -> BuiltContent | None:
        title, fallback = self._title(raw)
        pieces_by_part: list[list[_Piece]] = []
        for index, part in enumerate(raw.parts):
            pieces, english = self._part(raw, index, part)
            fallback = fallback or english
            pieces_by_part.append(pieces)
        links = self._links(raw, pieces_by_part)
        lines: list[str] = []
        for part, pieces in zip(raw.parts, pieces_by_part, strict=True):
            text = "".join(p.text + p.gap for p in pieces).strip()
            if text:
                lines.append(("• " + text) if part.role == "item" else text)
        answer = "\n".join(lines)
        if raw.id == "overview" and not answer:
            answer = title
        if not title or not answer:
            self.sink.add(raw.title.line, f"entry {raw.id}: no text found")
            return None
        line = raw.parts[0].inline.line if raw.parts else raw.title.line
        return BuiltContent(
            title=title,
            answer=answer,
            links=tuple(links),
            source=f"{self.source_name}:{line}",
            fallback=SOURCE_LANG if fallback else None,
        )

    def _links(self, raw: _Raw, pieces_by_part: list[list[_Piece]]) -> list[LinkRef]:
        ordered: list[tuple[_OutLink, bool]] = []
        for pieces in pieces_by_part:
            for piece in pieces:
                ordered.extend((link, piece.english) for link in piece.links)
        ref = self.ref_entries.get(raw.id)
        ref_links = [lk for p in ref.parts for lk in p.links if lk.ref is not None] if ref else []
        used: set[int] = set()
        resolved: list[LinkRef | None] = []
        broken: list[tuple[int, _OutLink, str, str | None]] = []
        for position, (link, from_reference) in enumerate(ordered):
            if from_reference:
                resolved.append(link.ref)
                self._use(link.ref, ref_links, used)
                continue
            good, problem, erb_path = self._classify(link)
            if not link.label:
                self.sink.add(link.line, f"link without text {link.markup}: dropped")
                resolved.append(None)
                continue
            if good is not None and link.fake:
                self.sink.add(link.line, f'escaped link markup "{link.markup}": kept as a link')
            if good is not None:
                resolved.append(good)
                self._use(good, ref_links, used)
                continue
            resolved.append(None)
            broken.append((position, link, problem or "broken", erb_path))
        for position, link, problem, erb_path in broken:
            what = "text that looks like a link (escaped markup)" if link.fake else "broken link"
            fixed = self._repair(position, link, erb_path, ref_links, used)
            if fixed is None:
                self.sink.add(link.line, f'{what} "{link.label}" {link.markup}: {problem}; no replacement, text kept')
                continue
            resolved[position] = fixed
            self.sink.add(
                link.line,
                f'{what} "{link.label}" {link.markup}: {problem}; replaced by {_target(fixed)}'
                " from the English reference",
            )
        out = [r for r in resolved if r is not None]
        out.extend(self._lost_links(raw, pieces_by_part, ref_links, used))
        if raw.button is not None or raw.id == "signup":
            out = self._button(raw) + out
        unique: list[LinkRef] = []
        for link_ref in out:
            if link_ref not in unique:
                unique.append(link_ref)
        return unique

    @staticmethod
    def _use(link: LinkRef | None, ref_links: list[_OutLink], used: set[int]) -> None:
        if link is None:
            return
        for index, candidate in enumerate(ref_links):
            cref = candidate.ref
            if index not in used and cref is not None and (cref.key, cref.url) == (link.key, link.url):
                used.add(index)
                return

    def _repair(
        self, position: int, link: _OutLink, erb_path: str | None, ref_links: list[_OutLink], used: set[int]
    ) -> LinkRef | None:
        if erb_path is not None:
            key = self._key_for_path(erb_path)
            if key is not None:
                self._use(LinkRef(link.label, key=key), ref_links, used)
                return LinkRef(link.label, key=key)
        free = [i for i in range(len(ref_links)) if i not in used]
        if not free:
            return None
        choice = position if position in free else None
        if choice is None:
            name = fold(self._restore(link.target))
            scored = [(fuzz.ratio(name, fold(_target(ref_links[i].ref))), -i, i) for i in free]
            choice = max(scored)[2]
        used.add(choice)
        chosen = ref_links[choice].ref
        assert chosen is not None
        return LinkRef(link.label, key=chosen.key, url=chosen.url)

    def _key_for_path(self, path: str) -> str | None:
        wanted = path.rstrip("/") or "/"
        exact = [k for k, t in self.links.paths.items() if (_SITE_PREFIX.sub("", t) or "/") == wanted]
        if exact:
            return sorted(exact)[0]
        ending = [k for k, t in self.links.paths.items() if t.endswith(wanted)]
        return sorted(ending)[0] if ending else None

    def _lost_links(
        self, raw: _Raw, pieces_by_part: list[list[_Piece]], ref_links: list[_OutLink], used: set[int]
    ) -> list[LinkRef]:
        """Links whose opening markup was lost: a stray ``</a>`` follows their text."""
        out: list[LinkRef] = []
        for part, pieces in zip(raw.parts, pieces_by_part, strict=True):
            if any(p.english for p in pieces):
                continue
            for position, line, tag in part.inline.strays:
                free = [i for i in range(len(ref_links)) if i not in used]
                before = part.inline.text[:position].rstrip()
                label = before.split(" ")[-1].strip(".,;:!?،؛") if before else ""
                if not free or not label:
                    continue
                used.add(free[0])
                chosen = ref_links[free[0]].ref
                assert chosen is not None
                restored = LinkRef(label, key=chosen.key, url=chosen.url)
                self.sink.add(
                    line,
                    f'link lost before "{tag}": "{label}" linked to {_target(restored)} from the English reference',
                )
                out.append(restored)
        return out

    def _button(self, raw: _Raw) -> list[LinkRef]:
        label = raw.title.text
        key = raw.button.key if raw.button is not None else ""
        if key and key in self.links:
            return [LinkRef(label, key=key)]
        ref = self.ref_entries.get("signup")
        ref_key = ref.raw.button.key if ref is not None and ref.raw.button is not None else ""
        line = raw.button.line if raw.button is not None else raw.title.line
        if key:
            self.sink.add(line, f"sign-up button: unknown placeholder {{{{ {key} }}}} (not in links.yaml)")
        else:
            self.sink.add(line, "no sign-up button placeholder found")
        if ref_key and ref_key in self.links:
            self.sink.add(line, f"sign-up link taken from the English reference: {ref_key}")
            return [LinkRef(label, key=ref_key)]
        return []

    def warnings(self, name: str) -> tuple[str, ...]:
        ordered = sorted(self.sink.items, key=lambda item: item[0])
        return tuple(f"{name}:{line}: {message}" for line, message in ordered)


def _copy(piece: _Piece, *, english: bool, gap: str = "") -> _Piece:
    links = [_OutLink(lk.label, lk.target, lk.line, lk.markup, lk.fake, lk.ref) for lk in piece.links]
    return _Piece(piece.text, links, english, gap)


def _target(link: LinkRef | None) -> str:
    if link is None:
        return ""
    return link.key or link.url or ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_url(target: str) -> bool:
    match = re.match(r"^https?://([^/\s?#]+)", target)
    return bool(match and "." in match.group(1))


def build_guide(
    text: str,
    *,
    name: str,
    lang: str,
    links: LinkTable,
    reference: Guide | None = None,
) -> BuildResult:
    """Extract the entries of one guide.

    Args:
        text: The guide's markdown.
        name: Path shown in warnings (``file:line: message``); its base name goes in ``source``.
        lang: Language of the guide (``fr``, ``pt-BR``).
        links: The link table: placeholder names not in it are damage.
        reference: The parsed English guide; untranslated text and broken links are repaired from it.

    Returns:
        The entries found, in the fixed order, and the warnings.

    Raises:
        GuideError: When the text has no guide structure at all.
    """
    guide = parse_guide(text, name=name)
    builder = _Builder(guide, lang, links, reference, Path(name).name)
    entries = builder.build()
    return BuildResult(lang, tuple(entries), builder.warnings(name))


def load_reference(path: Path) -> Guide:
    """Parse the English reference guide (raises OSError, UnicodeDecodeError or GuideError)."""
    return parse_guide(path.read_text(encoding="utf-8"), name=path.name)


# --------------------------------------------------------------------------- YAML output


class _Flow(dict[str, Any]):
    """A mapping written on one line (links)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML by hand.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(data), flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, _represent_flow)

_HEADER = (
    "# Knowledge entry. title, answer, links, fallback and source are rewritten by `hoc-bot kb build`\n"
    "# from the guide; questions, keywords, title_fixed, answer_fixed and labels_fixed (link key or url\n"
    "# -> label) are curated by hand and kept, and are shown instead of the guide's title, answer and labels.\n"
)
_CONTENT_ORDER = (*GUIDE_FIELDS, *CURATED_FIELDS)


def content_fields(content: BuiltContent) -> dict[str, Any]:
    """The guide fields of a built content as plain YAML data."""
    data: dict[str, Any] = {"title": content.title, "answer": content.answer}
    data["links"] = [_link_data(link) for link in content.links]
    if content.fallback:
        data["fallback"] = content.fallback
    data["source"] = content.source
    return data


def _link_data(link: LinkRef) -> dict[str, str]:
    data = {"label": link.label}
    if link.key:
        data["key"] = link.key
    if link.url:
        data["url"] = link.url
    return data


def merge_entry(
    existing: Mapping[str, Any] | None, entry_id: str, step: int | None, built: Mapping[str, BuiltContent]
) -> dict[str, Any]:
    """Merge built guide fields into an entry file's data.

    Guide fields of the built languages are replaced; curated fields and other languages are kept.
    """
    old_content = existing.get("content") if isinstance(existing, Mapping) else None
    content: dict[str, Any] = {}
    if isinstance(old_content, Mapping):
        for lang, fields in old_content.items():
            content[str(lang)] = dict(fields) if isinstance(fields, Mapping) else fields
    for lang, built_content in built.items():
        previous = content.get(lang)
        kept = {}
        if isinstance(previous, dict):
            kept = {k: v for k, v in previous.items() if k not in GUIDE_FIELDS}
        content[lang] = {**content_fields(built_content), **kept}
    data: dict[str, Any] = {"id": entry_id, "step": step}
    if isinstance(existing, Mapping):
        for key, value in existing.items():
            if key not in ("id", "step", "content"):
                data[str(key)] = value
    data["content"] = {lang: content[lang] for lang in sorted(content)}
    return data


def dump_entry(data: Mapping[str, Any]) -> str:
    """Entry data as YAML text, deterministic: fixed key order, sorted languages, no line wrapping."""
    out: dict[str, Any] = {"id": data.get("id"), "step": data.get("step")}
    for key, value in data.items():
        if key not in ("id", "step", "content"):
            out[key] = value
    content: dict[str, Any] = {}
    raw_content = data.get("content")
    if isinstance(raw_content, Mapping):
        for lang in sorted(raw_content, key=str):
            fields = raw_content[lang]
            content[str(lang)] = _ordered_fields(fields) if isinstance(fields, Mapping) else fields
    out["content"] = content
    body = yaml.dump(
        out,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
        indent=2,
    )
    return _HEADER + body


def _ordered_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in _CONTENT_ORDER:
        if key in fields:
            ordered[key] = fields[key]
    for key in sorted(k for k in fields if k not in _CONTENT_ORDER):
        ordered[key] = fields[key]
    if isinstance(ordered.get("links"), list):
        ordered["links"] = [_Flow(_ordered_link(lk)) if isinstance(lk, Mapping) else lk for lk in ordered["links"]]
    return ordered


def _ordered_link(link: Mapping[str, Any]) -> dict[str, Any]:
    order = ("label", "key", "url")
    out = {k: link[k] for k in order if k in link}
    out.update({k: link[k] for k in sorted(link) if k not in order})
    return out


def entries_by_id(results: Iterable[BuildResult]) -> dict[str, tuple[int | None, dict[str, BuiltContent]]]:
    """Group the built entries of several guides by entry id (later files win for a language)."""
    out: dict[str, tuple[int | None, dict[str, BuiltContent]]] = {}
    for result in results:
        for entry in result.entries:
            _, contents = out.setdefault(entry.id, (entry.step, {}))
            contents[entry.lang] = entry.content
    return {entry_id: out[entry_id] for entry_id in ENTRY_IDS if entry_id in out}
