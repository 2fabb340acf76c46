"""Knowledge YAML -> core types, validated, with ``file:line`` in every problem."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.classifier import MODEL_FILE, OFF_TOPIC, TextClassifier
from bot.core.errors import KnowledgeError
from bot.core.knowledge import ENTRY_IDS, STEP_IDS, Content, Entry, KnowledgeBase, LinkRef, LinkTable
from bot.knowledge.links import PLACEHOLDER_FIELDS, is_http_url, link_table, placeholder_problems

_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_TOP_FIELDS = ("id", "step", "content")
# Per language: title, answer, links, fallback and source come from the guide (`kb build` rewrites them);
# questions, keywords and the `_fixed` fields are curated and kept. title_fixed and answer_fixed are
# shown instead of title and answer; labels_fixed maps a link's key (or url) to the label shown instead
# of the guide's (translations of what the guide left in English, corrections).
_CONTENT_FIELDS: Mapping[str, type] = {
    "title": str,
    "answer": str,
    "links": list,
    "fallback": str,
    "source": str,
    "questions": list,
    "keywords": list,
    "title_fixed": str,
    "answer_fixed": str,
    "labels_fixed": dict,
}
_REQUIRED_CONTENT = ("title", "answer")
_LINK_FIELDS = ("label", "key", "url")
_REQUIRED_LANGS = {"fr": "French", "en": "English"}
_LINKS_TOP = ("site", "placeholders", "pages", "languages", "countries")

Path_ = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of the knowledge base, printed as ``file:line: entry <id>: <field>: message``."""

    file: str
    line: int
    entry: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.entry}: " if self.entry else ""
        what = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{what}{self.message}"


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """Where a curated sample question is, for checks across entries."""

    lang: str
    entry: str
    text: str
    file: str
    line: int
    field: str


@dataclass(frozen=True, slots=True)
class ShownText:
    """A text a user is shown (title, answer or link label, curated version first), with where it is.

    ``key`` tells texts of one kind apart: ``title``, ``answer``, or ``link:<key or url>``.
    """

    lang: str
    entry: str
    key: str
    text: str
    file: str
    line: int
    field: str


@dataclass(slots=True)
class Validation:
    """The outcome of reading a knowledge directory."""

    kb: KnowledgeBase | None
    problems: list[Problem] = field(default_factory=list)
    questions: list[QuestionRef] = field(default_factory=list)
    shown: list[ShownText] = field(default_factory=list)


@dataclass(slots=True)
class _Doc:
    data: Any
    lines: dict[Path_, int]
    problems: list[tuple[Path_, str]]


# libyaml's parser, when PyYAML was built with it, reads the entries ten times faster (start-up time).
_SafeLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> tuple[_Doc | None, Problem | None]:
    """Parse a YAML file keeping the line of every key and item."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(str(path), 1, None, "file", f"cannot be read: {exc}")
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken construct starts: the place to fix.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 1
        detail = " ".join(str(exc.problem or exc).split())
        if exc.context:
            detail = f"{exc.context}: {detail}"
        return None, Problem(str(path), line, None, "yaml", f"syntax error: {detail}")
    except yaml.YAMLError as exc:
        return None, Problem(str(path), 1, None, "yaml", f"syntax error: {' '.join(str(exc).split())}")
    finally:
        loader.dispose()
    doc = _Doc(data, {(): 1}, [])
    if node is not None:
        doc.lines[()] = node.start_mark.line + 1
        _walk(node, (), doc)
    return doc, None


def _walk(node: yaml.Node, path: Path_, doc: _Doc) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            sub = (*path, key)
            if key in seen:
                doc.problems.append((sub, "duplicate key"))
            seen.add(key)
            doc.lines.setdefault(sub, key_node.start_mark.line + 1)
            _walk(value_node, sub, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            sub = (*path, str(index))
            doc.lines[sub] = item.start_mark.line + 1
            _walk(item, sub, doc)


def _line(doc: _Doc, path: Path_) -> int:
    while path not in doc.lines and path:
        path = path[:-1]
    return doc.lines.get(path, 1)


def _field_name(path: Path_) -> str:
    out = ""
    for part in path:
        if part.isdigit() and out:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


# --------------------------------------------------------------------------- links.yaml


def _links_problems(doc: _Doc, file: str) -> list[Problem]:
    problems: list[Problem] = []

    def bad(path: Path_, message: str) -> None:
        problems.append(Problem(file, _line(doc, path), None, _field_name(path), message))

    for path, message in doc.problems:
        bad(path, message)
    data = doc.data
    if not isinstance(data, dict):
        bad((), "links.yaml must be a mapping")
        return problems
    for key in data:
        if key not in _LINKS_TOP:
            bad((str(key),), f"unknown field (expected {', '.join(_LINKS_TOP)})")
    site = data.get("site")
    if not isinstance(site, str) or not is_http_url(site):
        bad(("site",), "must be an http(s) URL")
    placeholders = data.get("placeholders")
    if not isinstance(placeholders, dict):
        bad(("placeholders",), "must be a mapping of placeholder name -> {path} or {url}")
        placeholders = {}
    pages = data.get("pages", {})
    if not isinstance(pages, dict):
        bad(("pages",), "must be a mapping of page name -> path")
        pages = {}
    site_pages = {str(k) for k, v in placeholders.items() if isinstance(v, dict) and "path" in v} | {
        str(k) for k in pages
    }
    for name, spec in placeholders.items():
        path = ("placeholders", str(name))
        if not isinstance(name, str):
            bad(path, "placeholder name must be a string")
        if not isinstance(spec, dict) or len({"path", "url"} & set(spec)) != 1:
            bad(path, "must be {path: ...} or {url: ...}")
            continue
        for key in spec:
            if key not in PLACEHOLDER_FIELDS:
                bad((*path, str(key)), f"unknown field (expected {', '.join(PLACEHOLDER_FIELDS)})")
        if "path" in spec and (not isinstance(spec["path"], str) or not spec["path"].startswith("/")):
            bad((*path, "path"), "must be a site path starting with /")
        if "url" in spec and (not isinstance(spec["url"], str) or not is_http_url(spec["url"])):
            bad((*path, "url"), f"not an http(s) URL: {spec['url']!r}")
        placeholder_problems(spec, path, site_pages, bad)
    for name, value in pages.items():
        if not isinstance(value, str) or not value.startswith("/"):
            bad(("pages", str(name)), "must be a site path starting with /")
    for section in ("languages", "countries"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            bad((section,), "must be a mapping of code -> code")
            continue
        for code, value in table.items():
            if not isinstance(code, str) or not isinstance(value, str):
                bad((section, str(code)), "codes must be strings (quote no, on, yes …)")
    return problems


def load_links(path: Path) -> LinkTable:
    """Read ``links.yaml``.

    Args:
        path: The file.

    Returns:
        The link table.

    Raises:
        KnowledgeError: When the file cannot be read or is invalid (problems in ``.problems``).
    """
    table, problems = _read_links(path)
    if table is None or problems:
        raise KnowledgeError(f"{path}: invalid link table", [str(p) for p in problems])
    return table


def _read_links(path: Path) -> tuple[LinkTable | None, list[Problem]]:
    doc, problem = _read_yaml(path)
    if doc is None:
        return None, [problem] if problem else []
    problems = sorted(_links_problems(doc, str(path)), key=lambda p: p.line)
    if problems:
        return None, problems
    return link_table(doc.data), []


# --------------------------------------------------------------------------- entries


@dataclass(slots=True)
class _EntryCheck:
    file: str
    doc: _Doc
    entry_id: str
    problems: list[Problem] = field(default_factory=list)

    def bad(self, path: Path_, message: str) -> None:
        line = _line(self.doc, path)
        self.problems.append(Problem(self.file, line, self.entry_id, _field_name(path), message))


def _check_entry(doc: _Doc, file: str, stem: str, links: LinkTable | None) -> _EntryCheck:
    data = doc.data
    raw = data.get("id") if isinstance(data, dict) else None
    check = _EntryCheck(file, doc, raw if isinstance(raw, str) else stem)
    for path, message in doc.problems:
        check.bad(path, message)
    if not isinstance(data, dict):
        check.bad((), "an entry file must be a mapping with id, step and content")
        return check
    for key in data:
        if key not in _TOP_FIELDS:
            check.bad((str(key),), f"unknown field (expected {', '.join(_TOP_FIELDS)})")
    for key in _TOP_FIELDS:
        if key not in data:
            check.bad((key,), "missing field")
    raw_id = data.get("id")
    if "id" in data and not isinstance(raw_id, str):
        check.bad(("id",), f"must be a string, not {_type(raw_id)}")
    elif isinstance(raw_id, str):
        if raw_id not in ENTRY_IDS:
            check.bad(("id",), f"unknown entry id {raw_id!r} (expected one of {', '.join(ENTRY_IDS)})")
        if raw_id != stem:
            check.bad(("id",), f"does not match the file name {stem}.yaml")
    step = data.get("step")
    if "step" in data and step is not None and type(step) is not int:
        check.bad(("step",), f"must be a step number or null, not {_type(step)}")
    elif "step" in data and isinstance(raw_id, str) and raw_id in ENTRY_IDS:
        expected = next((n for n, sid in STEP_IDS.items() if sid == raw_id), None)
        if step != expected:
            check.bad(("step",), f"must be {expected if expected is not None else 'null'} for {raw_id}")
    content = data.get("content")
    if "content" in data and not isinstance(content, dict):
        check.bad(("content",), f"must be a mapping of language -> fields, not {_type(content)}")
    elif isinstance(content, dict):
        for lang, fields in content.items():
            _check_content(check, str(lang), fields, links)
        for lang, name in _REQUIRED_LANGS.items():
            if lang not in content:
                check.bad(("content",), f"missing {name} content (content.{lang}): a {name} answer is required")
    return check


def _check_content(check: _EntryCheck, lang: str, fields: Any, links: LinkTable | None) -> None:
    base: Path_ = ("content", lang)
    if not _LANG.match(lang):
        check.bad(base, f"not a language code: {lang!r}")
    if not isinstance(fields, dict):
        check.bad(base, f"must be a mapping of fields, not {_type(fields)}")
        return
    for key, value in fields.items():
        path = (*base, str(key))
        expected = _CONTENT_FIELDS.get(str(key))
        if expected is None:
            check.bad(path, f"unknown field (expected {', '.join(_CONTENT_FIELDS)})")
        elif not isinstance(value, expected):
            check.bad(path, f"must be a {expected.__name__}, not {_type(value)}")
        elif isinstance(value, list) and key != "links":
            for index, item in enumerate(value):
                if not isinstance(item, str) or not item.strip():
                    check.bad((*path, str(index)), f"must be a non-empty string, not {_type(item)}")
    for key in _REQUIRED_CONTENT:
        if key not in fields:
            check.bad((*base, key), "missing field")
    for key in ("title", "title_fixed"):
        title = fields.get(key)
        if isinstance(title, str) and not title.strip():
            check.bad((*base, key), "empty")
    answer = fields.get("answer_fixed") or fields.get("answer")
    if "answer" in fields and isinstance(answer, str) and not answer.strip():
        what = "empty French answer" if lang == "fr" else "empty English answer" if lang == "en" else "empty"
        check.bad((*base, "answer"), what)
    fallback = fields.get("fallback")
    if isinstance(fallback, str) and not _LANG.match(fallback):
        check.bad((*base, "fallback"), f"not a language code: {fallback!r}")
    raw_links = fields.get("links")
    if isinstance(raw_links, list):
        for index, link in enumerate(raw_links):
            _check_link(check, (*base, "links", str(index)), link, links)
    labels = fields.get("labels_fixed")
    if isinstance(labels, dict):
        targets = {_target(lk) for lk in raw_links if isinstance(lk, dict)} if isinstance(raw_links, list) else set()
        for target, label in labels.items():
            path = (*base, "labels_fixed", str(target))
            if not isinstance(label, str) or not label.strip():
                check.bad(path, f"must be a non-empty string, not {_type(label)}")
            elif target not in targets:
                check.bad(path, f"no link of content.{lang}.links has this key or url")


def _target(link: Mapping[str, Any]) -> Any:
    """What ``labels_fixed`` names a link by: its key, else its url."""
    return link.get("key") or link.get("url")


def _check_link(check: _EntryCheck, path: Path_, link: Any, links: LinkTable | None) -> None:
    if not isinstance(link, dict):
        check.bad(path, f"a link must be {{label, key}} or {{label, url}}, not {_type(link)}")
        return
    for key in link:
        if key not in _LINK_FIELDS:
            check.bad((*path, str(key)), "unknown field (expected label and key or url)")
    label = link.get("label")
    if not isinstance(label, str) or not label.strip():
        check.bad((*path, "label"), "missing or empty")
    has_key, has_url = "key" in link, "url" in link
    if has_key == has_url:
        check.bad(path, "needs exactly one of key and url")
    if has_key:
        key = link["key"]
        if not isinstance(key, str):
            check.bad((*path, "key"), f"must be a string, not {_type(key)}")
        elif links is not None and key not in links:
            check.bad((*path, "key"), f"link key {key!r} is not in links.yaml")
    if has_url:
        url = link["url"]
        if not isinstance(url, str) or not is_http_url(url):
            check.bad((*path, "url"), f"not an http(s) URL: {url!r}")


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _entry(data: Mapping[str, Any]) -> Entry:
    content: dict[str, Content] = {}
    for lang, fields in data["content"].items():
        labels = fields.get("labels_fixed") or {}
        content[str(lang)] = Content(
            title=_curated(fields, "title"),
            answer=_curated(fields, "answer"),
            links=tuple(
                LinkRef(label=(labels.get(_target(lk)) or lk["label"]).strip(), key=lk.get("key"), url=lk.get("url"))
                for lk in fields.get("links") or []
            ),
            questions=tuple(q.strip() for q in fields.get("questions") or []),
            keywords=tuple(k.strip() for k in fields.get("keywords") or []),
            fallback=fields.get("fallback"),
        )
    return Entry(id=data["id"], step=data["step"], content=content)


def _curated(fields: Mapping[str, Any], name: str) -> str:
    """``<name>_fixed`` when curated, else the guide's ``<name>``."""
    fixed = fields.get(f"{name}_fixed")
    return str(fixed if isinstance(fixed, str) and fixed.strip() else fields[name]).strip()


def _shown(doc: _Doc, file: str, entry_id: str) -> list[ShownText]:
    """Every title, answer and link label that users see, with the line of the field it comes from."""
    out: list[ShownText] = []
    for lang, fields in doc.data["content"].items():
        base: Path_ = ("content", str(lang))

        def add(key: str, text: str, path: Path_, lang: str = str(lang)) -> None:
            out.append(ShownText(lang, entry_id, key, text, file, _line(doc, path), _field_name(path)))

        for name in ("title", "answer"):
            fixed = fields.get(f"{name}_fixed")
            curated = isinstance(fixed, str) and bool(fixed.strip())
            add(name, _curated(fields, name), (*base, f"{name}_fixed" if curated else name))
        labels = fields.get("labels_fixed") or {}
        for index, link in enumerate(fields.get("links") or []):
            target = _target(link)
            if labels.get(target):
                add(f"link:{target}", str(labels[target]).strip(), (*base, "labels_fixed", str(target)))
            else:
                add(f"link:{target}", str(link["label"]).strip(), (*base, "links", str(index), "label"))
    return out


def validate_kb(kb_dir: Path) -> Validation:
    """Read and validate a knowledge directory (``links.yaml`` and ``entries/*.yaml``).

    Args:
        kb_dir: The directory.

    Returns:
        The knowledge base when it is valid, every problem found, and every sample question with
        its position (for checks across entries).
    """
    links_path = kb_dir / "links.yaml"
    links, problems = _read_links(links_path)
    entries_dir = kb_dir / "entries"
    files = sorted(entries_dir.glob("*.yaml")) if entries_dir.is_dir() else []
    if not files:
        problems.append(Problem(str(entries_dir), 1, None, "", "no entry files (entries/*.yaml)"))
    seen: dict[str, str] = {}
    entries: dict[str, Entry] = {}
    questions: list[QuestionRef] = []
    shown: list[ShownText] = []
    for path in files:
        doc, problem = _read_yaml(path)
        if doc is None:
            if problem:
                problems.append(_with_entry(problem, path.stem))
            # Unreadable, not missing: do not report its id as missing too.
            seen.setdefault(path.stem, str(path))
            continue
        check = _check_entry(doc, str(path), path.stem, links)
        problems.extend(check.problems)
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        entry_id = data["id"]
        if entry_id in seen:
            line = _line(doc, ("id",))
            problems.append(Problem(str(path), line, entry_id, "id", f"duplicate id (also in {seen[entry_id]})"))
            continue
        seen[entry_id] = f"{path}:{_line(doc, ('id',))}"
        questions.extend(_questions(doc, str(path), entry_id))
        if not check.problems:
            entries[entry_id] = _entry(data)
            shown.extend(_shown(doc, str(path), entry_id))
    for entry_id in ENTRY_IDS:
        if entry_id not in seen:
            missing = str(entries_dir / f"{entry_id}.yaml")
            problems.append(Problem(missing, 1, entry_id, "id", "missing entry: no file defines it"))
    problems.sort(key=lambda p: (p.file, p.line))
    kb = None
    if not problems and links is not None:
        ordered = tuple(entries[i] for i in ENTRY_IDS if i in entries)
        kb = KnowledgeBase(entries=ordered, links=links)
    return Validation(kb, problems, questions, shown)


def _with_entry(problem: Problem, entry_id: str) -> Problem:
    return Problem(problem.file, problem.line, entry_id, problem.field, problem.message)


def _questions(doc: _Doc, file: str, entry_id: str) -> list[QuestionRef]:
    content = doc.data.get("content")
    out: list[QuestionRef] = []
    if not isinstance(content, dict):
        return out
    for lang, fields in content.items():
        if not isinstance(fields, dict) or not isinstance(fields.get("questions"), list):
            continue
        for index, text in enumerate(fields["questions"]):
            if isinstance(text, str):
                path = ("content", str(lang), "questions", str(index))
                out.append(QuestionRef(str(lang), entry_id, text, file, _line(doc, path), _field_name(path)))
    return out


def load_kb(kb_dir: Path) -> KnowledgeBase:
    """Load the knowledge base of a directory.

    Args:
        kb_dir: Directory with ``links.yaml`` and ``entries/*.yaml``.

    Returns:
        The knowledge base, entries in the guide's order.

    Raises:
        KnowledgeError: When anything is invalid; ``.problems`` lists ``file:line: ...`` messages.
    """
    result = validate_kb(kb_dir)
    if result.kb is None:
        problems = [str(p) for p in result.problems]
        raise KnowledgeError(f"knowledge base {kb_dir} is invalid ({len(problems)} problem(s))", problems)
    return with_model(result.kb, kb_dir / MODEL_FILE)


def with_model(kb: KnowledgeBase, path: Path) -> KnowledgeBase:
    """``kb`` with the classifier of ``path`` when the file exists.

    Raises:
        KnowledgeError: When the model cannot be read, or knows an entry the knowledge base lacks.
    """
    if not path.exists():
        return kb
    model = TextClassifier.load(path)
    ids = {entry.id for entry in kb.entries}
    unknown = sorted(set(model.classes) - ids - {OFF_TOPIC})
    if unknown:
        raise KnowledgeError(
            f"{path}: trained for entries the knowledge base lacks ({', '.join(unknown)}): run `hoc-bot kb train`"
        )
    return dataclasses.replace(kb, model=model)
