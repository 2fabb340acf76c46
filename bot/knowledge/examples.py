"""Curated training examples (``examples/<lang>.yaml``): reading and checking them.

Each file holds one language's natural questions per entry and its near-domain off-topic
questions::

    lang: fr
    entries:
      recruit-schools:
        - comment convaincre les écoles de participer ?
    offtopic:
      - quel temps fera-t-il le jour de l'événement ?
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.classifier import OFF_TOPIC
from bot.core.knowledge import KnowledgeBase
from bot.core.text import normalize

#: Directory of the example files inside a knowledge directory.
EXAMPLES_DIR = "examples"
_LANG = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question: an entry id, or :data:`~bot.core.classifier.OFF_TOPIC`."""

    lang: str
    label: str
    text: str
    file: str
    line: int


@dataclass(slots=True)
class Examples:
    """Every example of a knowledge directory, with the problems found reading them."""

    items: list[Example] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_lang(self) -> dict[str, list[Example]]:
        """Examples grouped by language."""
        out: dict[str, list[Example]] = {}
        for item in self.items:
            out.setdefault(item.lang, []).append(item)
        return out


def read_examples(kb_dir: Path, entry_ids: Iterable[str]) -> Examples:
    """Read and check ``kb_dir/examples/*.yaml``.

    Problems (``file:line: message``): a file that is not valid YAML or not of the shape above, a
    ``lang`` that differs from the file name, an unknown entry id, an example that is not a
    non-empty string, and the same question (normalised) under two labels.
    """
    known = set(entry_ids)
    result = Examples()
    folder = kb_dir / EXAMPLES_DIR
    if not folder.is_dir():
        return result
    for path in sorted(folder.glob("*.yaml")):
        _read_file(path, known, result)
    _cross_label_duplicates(result)
    return result


def _read_file(path: Path, known: set[str], result: Examples) -> None:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(f"{name}:1: cannot be read: {exc}")
        return
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        result.problems.append(f"{name}:{line}: not valid YAML: {' '.join(str(exc).split())}")
        return
    if not isinstance(node, yaml.MappingNode):
        result.problems.append(f"{name}:1: expected a mapping with lang, entries and offtopic")
        return
    fields = {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    stem = path.stem
    lang_node = fields.get("lang")
    if not isinstance(lang_node, yaml.ScalarNode) or not _LANG.match(str(lang_node.value)):
        result.problems.append(f"{name}:1: lang: expected a language code such as {stem!r}")
        return
    lang = str(lang_node.value)
    if lang != stem:
        line = lang_node.start_mark.line + 1
        result.problems.append(f"{name}:{line}: lang: {lang!r} but the file is named {path.name}")
    for key in fields:
        if key not in ("lang", "entries", "offtopic"):
            result.problems.append(f"{name}:{fields[key].start_mark.line + 1}: unknown field {key!r}")
    entries = fields.get("entries")
    if isinstance(entries, yaml.MappingNode):
        for key_node, items in entries.value:
            label = str(key_node.value)
            if label not in known:
                result.problems.append(f"{name}:{key_node.start_mark.line + 1}: entries: unknown entry {label!r}")
                continue
            _read_list(name, lang, label, items, result)
    elif entries is not None:
        result.problems.append(f"{name}:{entries.start_mark.line + 1}: entries: expected a mapping of entry ids")
    offtopic = fields.get("offtopic")
    if offtopic is not None:
        _read_list(name, lang, OFF_TOPIC, offtopic, result)


def _read_list(name: str, lang: str, label: str, node: yaml.Node, result: Examples) -> None:
    where = "offtopic" if label == OFF_TOPIC else f"entries.{label}"
    if not isinstance(node, yaml.SequenceNode):
        result.problems.append(f"{name}:{node.start_mark.line + 1}: {where}: expected a list of questions")
        return
    seen: set[str] = set()
    for item in node.value:
        line = item.start_mark.line + 1
        value: Any = item.value if isinstance(item, yaml.ScalarNode) else None
        if item.tag != "tag:yaml.org,2002:str" or not isinstance(value, str) or not normalize(value):
            result.problems.append(f"{name}:{line}: {where}: expected a question as text")
            continue
        key = normalize(value)
        if key in seen:
            result.problems.append(f"{name}:{line}: {where}: duplicate question {value!r}")
            continue
        seen.add(key)
        result.items.append(Example(lang, label, value, name, line))


def _cross_label_duplicates(result: Examples) -> None:
    first: dict[tuple[str, str], Example] = {}
    for item in result.items:
        key = (item.lang, normalize(item.text))
        other = first.setdefault(key, item)
        if other is not item and other.label != item.label:
            result.problems.append(
                f"{item.file}:{item.line}: {item.label}: {item.text!r} is also an example of "
                f"{other.label} ({other.file}:{other.line}): one question, two answers"
            )


def training_samples(kb: KnowledgeBase, examples: Examples) -> list[tuple[str, str]]:
    """``(label, text)`` pairs the model learns from: the examples, plus each entry's curated sample
    questions, keywords and title in every language."""
    samples = [(item.label, item.text) for item in examples.items]
    for entry in kb.entries:
        for content in _contents(entry.content):
            samples.extend((entry.id, text) for text in (*content.questions, *content.keywords, content.title))
    return samples


def _contents(content: Mapping[str, Any]) -> list[Any]:
    return [content[lang] for lang in sorted(content)]
