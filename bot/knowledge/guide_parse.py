"""Guide markdown -> its structure (H1, call to action, steps, after): markdown-it tokens read into blocks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.core.knowledge import STEP_IDS

_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
# Template syntax sits on top of markdown: `{{ name }}` and ERB `<%= ... %>` (sometimes with its
# angle brackets lost). Markdown cannot parse a link whose target has spaces, so each occurrence is
# swapped for a space-free token before parsing and looked up again afterwards.
_PLACEHOLDER = re.compile(r"\{\{([^{}\n]*)\}\}")
_ERB = re.compile(r"<?%=([^%\n]*)%>?")
_TOKEN = re.compile(r"hoc(ph|erb):(\d+)")
#: A whole token standing for a placeholder (``hocph:N``) or an ERB value (``hocerb:N``).
TEMPLATE_TOKEN = re.compile(r"hoc(ph|erb):(\d+)")
# Inside a text token, anything shaped like a link or an HTML tag is damage markdown did not parse.
_FAKE_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]*)\)")
_STRAY_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")
_BR = re.compile(r"^<\s*br\s*/?\s*>$", re.IGNORECASE)
_HTML_OPEN_A = re.compile(r"^<\s*a\b([^>]*)>$", re.IGNORECASE)
_HTML_CLOSE_A = re.compile(r"^<\s*/\s*a\s*>$", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_STEP_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(?:[.．。)）\-–—:：、]\s*|\s+)")


class GuideError(Exception):
    """The file is not a guide at all (no structure could be found)."""


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
class Inline:
    """The plain text of an inline token, its link spans and where stray ``</a>`` tags were."""

    text: str
    links: list[_Link]
    strays: list[tuple[int, int, str]]
    line: int


@dataclass(slots=True)
class Block:
    """A heading, paragraph, list item or sign-up button placeholder of the page."""

    kind: str  # heading | paragraph | item | button
    level: int
    inline: Inline
    line: int
    key: str = ""


@dataclass(slots=True)
class _Section:
    title: Block
    body: list[Block] = field(default_factory=list)
    number: int | None = None


@dataclass(slots=True)
class Guide:
    """The structure of a guide page (parsed, not yet checked against links or a reference)."""

    name: str
    front_title: str | None
    front_line: int
    h1: Block | None
    tagline: Block | None
    cta: _Section | None
    steps: dict[int, _Section]
    after: _Section | None
    buttons: list[Block]
    placeholders: list[str]
    erb: list[str]
    notes: list[tuple[int, str]]


class Sink:
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


def _split_front_matter(text: str, sink: Sink) -> tuple[str, str | None, int]:
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


class InlineReader:
    """Turns an inline token into plain text with link spans, reporting markup damage."""

    _TEXT_DAMAGE = re.compile(f"{_FAKE_LINK.pattern}|{_STRAY_TAG.pattern}|{_TOKEN.pattern}")

    def __init__(self, guide: Guide, sink: Sink) -> None:
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

    def read(self, token: Token) -> Inline:
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


def _finish(raw: str, links: list[_Link], strays: list[tuple[int, int, str]], line: int) -> Inline:
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
    return Inline(text, moved, markers, line)


def _heading_number(text: str) -> tuple[int | None, str]:
    match = _STEP_NUMBER.match(text)
    if not match:
        return None, text
    rest = text[match.end() :].strip()
    if not rest:
        return None, text
    return int(match.group(1)), rest


def _strip_number(inline: Inline) -> tuple[int | None, Inline]:
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
    return number, Inline(rest, links, strays, inline.line)


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
    sink = Sink()
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
    reader = InlineReader(guide, sink)
    blocks = _blocks(MarkdownIt("commonmark").parse(body), reader, sink)
    _structure(guide, blocks, sink)
    guide.notes = sink.items
    if guide.h1 is None and guide.cta is None and not guide.steps:
        raise GuideError(f"{name}: no guide structure found (no H1, no H2 call to action, no steps)")
    return guide


def _blocks(tokens: Sequence[Token], reader: InlineReader, sink: Sink) -> list[Block]:
    blocks: list[Block] = []
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
            only = TEMPLATE_TOKEN.fullmatch(token.content.strip())
            if only and only.group(1) == "ph" and not heading_level:
                key = reader.guide.placeholders[int(only.group(2))].strip()
                blocks.append(Block("button", 0, Inline("", [], [], line), line, key=key))
                continue
            inline = reader.read(token)
            if heading_level:
                blocks.append(Block("heading", heading_level, inline, line))
            elif inline.text:
                blocks.append(Block("item" if list_depth else "paragraph", 0, inline, line))
    return blocks


def _structure(guide: Guide, blocks: list[Block], sink: Sink) -> None:
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
                    current = _Section(Block("heading", block.level, inline, block.line), number=number)
                    guide.steps[number] = current
                state = "steps"
            elif current is not None:
                current.body.append(Block("paragraph", 0, block.inline, block.line))
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


def load_reference(path: Path) -> Guide:
    """Parse the English reference guide (raises OSError, UnicodeDecodeError or GuideError)."""
    return parse_guide(path.read_text(encoding="utf-8"), name=path.name)
