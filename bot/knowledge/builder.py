"""Parsed guide -> knowledge entries: links checked against links.yaml, damage repaired from the English reference."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bot.core.knowledge import ENTRY_IDS, STEP_IDS, LinkRef, LinkTable
from bot.core.text import fold
from bot.knowledge.entry_text import (
    OutLink,
    Part,
    Piece,
    RawEntry,
    copy_piece,
    cosine,
    cut_piece,
    raw_entries,
    sentence_spans,
    trigrams,
)
from bot.knowledge.guide_parse import TEMPLATE_TOKEN, Guide, InlineReader, Sink, parse_guide

#: Language of the reference guide that translations are compared with.
SOURCE_LANG = "en"
# The path in an ERB leftover (``resolve_url('/path')``): the link it stood for.
_ERB_PATH = re.compile(r"""resolve_url\(\s*['"]([^'"]+)['"]\s*\)""")
_SITE_PREFIX = re.compile(r"^/\{country\}(?:\[/\{lang\}\])?")

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


@dataclass(slots=True)
class _RefSentence:
    folded: str
    part: int
    piece: Piece


@dataclass(slots=True)
class _RefEntry:
    raw: RawEntry
    title: str
    parts: list[Piece]
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
        self.sink = Sink()
        for line, message in guide.notes:
            self.sink.add(line, message)
        self.source_name = source_name
        use_reference = reference is not None and lang.split("-")[0] != SOURCE_LANG
        self.reference = reference if use_reference else None
        self.ref_entries: dict[str, _RefEntry] = {}
        if self.reference is not None:
            for entry_id, raw in raw_entries(self.reference).items():
                parts = [cut_piece(p.inline, (0, len(p.inline.text))) for p in raw.parts]
                sentences = [
                    _RefSentence(fold(p.inline.text[a:b]), index, cut_piece(p.inline, (a, b)))
                    for index, p in enumerate(raw.parts)
                    for a, b in sentence_spans(p.inline)
                ]
                for piece in parts:
                    self._resolve_ok(piece.links, self.reference)
                for sentence in sentences:
                    self._resolve_ok(sentence.piece.links, self.reference)
                lines = [p.inline.line for p in raw.parts]
                self.ref_entries[entry_id] = _RefEntry(raw, raw.title.text, parts, sentences, lines)
        self._own: Counter[str] = Counter()
        self._english = trigrams(" ".join(self._all_texts(self.reference))) if self.reference is not None else Counter()

    @staticmethod
    def _all_texts(guide: Guide) -> list[str]:
        texts = [guide.front_title or ""]
        for raw in raw_entries(guide).values():
            texts.append(raw.title.text)
            texts.extend(p.inline.text for p in raw.parts)
        return texts

    # -- link targets

    def _classify(self, link: OutLink, guide: Guide | None = None) -> tuple[LinkRef | None, str | None, str | None]:
        """(working link, problem, ERB path) of a link's target in ``guide`` (default: this one)."""
        guide = guide or self.guide
        token = TEMPLATE_TOKEN.fullmatch(link.target)
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
        return InlineReader(self.guide, self.sink).restore(text)

    def _resolve_ok(self, links: list[OutLink], guide: Guide) -> None:
        for link in links:
            link.ref, _, _ = self._classify(link, guide)

    # -- entries

    def build(self) -> list[BuiltEntry]:
        raws = raw_entries(self.guide)
        self._own = trigrams(" ".join(self._own_texts(raws)))
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

    def _own_texts(self, raws: Mapping[str, RawEntry]) -> list[str]:
        """Text of this guide that is not the English reference's (its own language)."""
        texts = [self.guide.front_title or ""]
        for raw in raws.values():
            ref = self.ref_entries.get(raw.id)
            if ref is None or fuzz.ratio(fold(raw.title.text), fold(ref.title)) < _SAME_TEXT:
                texts.append(raw.title.text)
            for part in raw.parts:
                for a, b in sentence_spans(part.inline):
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
        mine = trigrams(text)
        own = self._own - mine
        if sum(own.values()) < _MIN_OWN_TEXT:
            return False
        return cosine(mine, self._english) > cosine(mine, own) * _TRIGRAM_RATIO

    def _ref_line(self, entry_id: str, part: int) -> str:
        ref = self.ref_entries[entry_id]
        assert self.reference is not None
        return f"{self.reference.name}:{ref.lines[part]}"

    def _title(self, raw: RawEntry) -> tuple[str, bool]:
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

    def _part(self, raw: RawEntry, index: int, part: Part) -> tuple[list[Piece], bool]:
        """The pieces of one paragraph, English sentences replaced by the reference's."""
        inline = part.inline
        spans = sentence_spans(inline)
        starts = [a for a, _ in spans[1:]] + [None]
        pieces = [cut_piece(inline, span, nxt) for span, nxt in zip(spans, starts, strict=True)]
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
                        return [copy_piece(ref.parts[same], english=True)], True
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
            return [copy_piece(ref.parts[whole], english=True)], True
        out: list[Piece] = []
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
            out.append(copy_piece(match.piece, english=True, gap=piece.gap))
        return out, True

    def _same_position(self, raw: RawEntry, index: int) -> int | None:
        ref = self.ref_entries[raw.id]
        role = raw.parts[index].role
        position = sum(1 for p in raw.parts[:index] if p.role == role)
        same_role = [i for i, p in enumerate(ref.raw.parts) if p.role == role]
        return same_role[position] if position < len(same_role) else None

    def _report_links(self, links: list[OutLink]) -> None:
        """Report damaged links of text that is being replaced (the damage is still in the guide)."""
        for link in links:
            ref, problem, _ = self._classify(link)
            what = "text that looks like a link (escaped markup)" if link.fake else "broken link"
            if ref is None:
                self.sink.add(link.line, f'{what} "{link.label}" {link.markup}: {problem}')
            elif link.fake:
                self.sink.add(link.line, f'{what} "{link.label}" {link.markup}')

    def _entry(self, raw: RawEntry) -> BuiltContent | None:
        title, fallback = self._title(raw)
        pieces_by_part: list[list[Piece]] = []
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

    def _links(self, raw: RawEntry, pieces_by_part: list[list[Piece]]) -> list[LinkRef]:
        ordered: list[tuple[OutLink, bool]] = []
        for pieces in pieces_by_part:
            for piece in pieces:
                ordered.extend((link, piece.english) for link in piece.links)
        ref = self.ref_entries.get(raw.id)
        ref_links = [lk for p in ref.parts for lk in p.links if lk.ref is not None] if ref else []
        used: set[int] = set()
        resolved: list[LinkRef | None] = []
        broken: list[tuple[int, OutLink, str, str | None]] = []
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
    def _use(link: LinkRef | None, ref_links: list[OutLink], used: set[int]) -> None:
        if link is None:
            return
        for index, candidate in enumerate(ref_links):
            cref = candidate.ref
            if index not in used and cref is not None and (cref.key, cref.url) == (link.key, link.url):
                used.add(index)
                return

    def _repair(
        self, position: int, link: OutLink, erb_path: str | None, ref_links: list[OutLink], used: set[int]
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
        self, raw: RawEntry, pieces_by_part: list[list[Piece]], ref_links: list[OutLink], used: set[int]
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

    def _button(self, raw: RawEntry) -> list[LinkRef]:
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


def entries_by_id(results: Iterable[BuildResult]) -> dict[str, tuple[int | None, dict[str, BuiltContent]]]:
    """Group the built entries of several guides by entry id (later files win for a language)."""
    out: dict[str, tuple[int | None, dict[str, BuiltContent]]] = {}
    for result in results:
        for entry in result.entries:
            _, contents = out.setdefault(entry.id, (entry.step, {}))
            contents[entry.lang] = entry.content
    return {entry_id: out[entry_id] for entry_id in ENTRY_IDS if entry_id in out}
