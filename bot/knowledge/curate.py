"""Adding curated examples to ``examples/<lang>.yaml``: questions of an entry, or off-topic negatives.

What a review of the questions log decides ends here. Each question is checked against what the
knowledge directory already teaches in its language before anything is written:

- the same question (normalised: case, accents, punctuation) already under the same label: skipped;
- the same question under another label, as an example or an entry's sample question: refused, since
  one question cannot teach two answers (``kb check`` rejects it among the examples);
- a question of the evaluation sets: refused, since the accuracy figures would then measure questions
  the model learnt.

The files are written by the same YAML dumper as ``kb build`` (:mod:`bot.knowledge.yaml_dump`); a file
read back and dumped again is unchanged, so a change shows only its added lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.classifier import OFF_TOPIC
from bot.core.text import normalize
from bot.knowledge.examples import EXAMPLES_DIR
from bot.knowledge.loader import validate_kb
from bot.knowledge.yaml_dump import dump_yaml

#: Why a question is not added.
ALREADY_PRESENT = "already an example"
OTHER_LABEL = "an example of another entry"
EVALUATION = "an evaluation question"

#: libyaml's safe loader when PyYAML has it (ten times faster on the examples and evaluation files).
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Addition:
    """One question to teach: ``label`` is an entry id or :data:`~bot.core.classifier.OFF_TOPIC`."""

    lang: str
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What becomes of one addition: added, or not with a reason (and the label it collides with)."""

    addition: Addition
    added: bool
    reason: str = ""
    other: str = ""


@dataclass(slots=True)
class CurationPlan:
    """The verdict of every addition asked for, in order."""

    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def added(self) -> list[Addition]:
        """The additions to write."""
        return [v.addition for v in self.verdicts if v.added]

    @property
    def skipped(self) -> list[Verdict]:
        """Additions already there under the same label."""
        return [v for v in self.verdicts if not v.added and v.reason == ALREADY_PRESENT]

    @property
    def refused(self) -> list[Verdict]:
        """Additions that would contradict the knowledge base or leak an evaluation question."""
        return [v for v in self.verdicts if not v.added and v.reason != ALREADY_PRESENT]


def known_labels(kb_dir: Path) -> dict[tuple[str, str], str]:
    """``(lang, normalised question) -> label`` of every example and entry sample question of ``kb_dir``."""
    known: dict[tuple[str, str], str] = {}
    for path in sorted((kb_dir / EXAMPLES_DIR).glob("*.yaml")):
        data = _load(path)
        lang = str(data.get("lang") or path.stem)
        entries = data.get("entries")
        if isinstance(entries, Mapping):
            for label, items in entries.items():
                for text in items if isinstance(items, list) else ():
                    if isinstance(text, str):
                        known.setdefault((lang, normalize(text)), str(label))
        offtopic = data.get("offtopic")
        for text in offtopic if isinstance(offtopic, list) else ():
            if isinstance(text, str):
                known.setdefault((lang, normalize(text)), OFF_TOPIC)
    kb = validate_kb(kb_dir).kb
    if kb is not None:
        for entry in kb.entries:
            for lang, content in entry.content.items():
                for text in content.questions:
                    known.setdefault((lang, normalize(text)), entry.id)
    return known


def plan_additions(
    kb_dir: Path,
    wanted: Sequence[Addition],
    *,
    evaluation: Mapping[str, set[str]] | None = None,
    known: Mapping[tuple[str, str], str] | None = None,
) -> CurationPlan:
    """Decide, for each addition in turn, whether it is added (see the module's rules).

    Args:
        kb_dir: The knowledge directory the additions are for.
        wanted: The additions asked for; earlier ones count for later ones.
        evaluation: ``lang -> normalised questions`` of the evaluation sets, refused.
        known: :func:`known_labels` of ``kb_dir`` when the caller has them already.
    """
    known = dict(known) if known is not None else known_labels(kb_dir)
    plan = CurationPlan()
    for addition in wanted:
        key = (addition.lang, normalize(addition.text))
        if not key[1]:
            continue
        if evaluation is not None and key[1] in evaluation.get(addition.lang, set()):
            plan.verdicts.append(Verdict(addition, False, EVALUATION))
            continue
        other = known.get(key)
        if other == addition.label:
            plan.verdicts.append(Verdict(addition, False, ALREADY_PRESENT, other))
        elif other is not None:
            plan.verdicts.append(Verdict(addition, False, OTHER_LABEL, other))
        else:
            known[key] = addition.label
            plan.verdicts.append(Verdict(addition, True))
    return plan


def examples_file(kb_dir: Path, lang: str) -> Path:
    """Where the examples of ``lang`` live."""
    return kb_dir / EXAMPLES_DIR / f"{lang}.yaml"


def with_additions(text: str | None, lang: str, additions: Iterable[Addition]) -> str:
    """The text of an examples file (None: a new one) with ``additions`` appended to their lists.

    The comment lines that open the file are kept; the rest is dumped from the data, so that the
    file is written the same way whoever adds to it.
    """
    if text is None:
        header = f"# Curated training examples for the matcher ({lang}): questions per entry, and off-topic ones.\n"
        data: dict[str, Any] = {"lang": lang, "entries": {}, "offtopic": []}
    else:
        lines = text.splitlines(keepends=True)
        opening = []
        for line in lines:
            if not line.startswith("#"):
                break
            opening.append(line)
        header = "".join(opening)
        loaded = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, libyaml's or PyYAML's
        data = dict(loaded) if isinstance(loaded, Mapping) else {"lang": lang}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        entries = data["entries"] = {}
    for addition in additions:
        if addition.label == OFF_TOPIC:
            offtopic = data.get("offtopic")
            if not isinstance(offtopic, list):
                offtopic = data["offtopic"] = []
            offtopic.append(addition.text)
        else:
            items = entries.get(addition.label)
            if not isinstance(items, list):
                items = entries[addition.label] = []
            items.append(addition.text)
    if not data.get("offtopic"):
        data.pop("offtopic", None)
    return header + dump_yaml(data, indent_lists=False)


def write_additions(kb_dir: Path, additions: Sequence[Addition]) -> list[Path]:
    """Append ``additions`` to the examples files of ``kb_dir``; the files written."""
    by_lang: dict[str, list[Addition]] = {}
    for addition in additions:
        by_lang.setdefault(addition.lang, []).append(addition)
    written = []
    for lang, items in sorted(by_lang.items()):
        path = examples_file(kb_dir, lang)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(with_additions(old, lang, items), encoding="utf-8")
        written.append(path)
    return written


def _load(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader, libyaml's or PyYAML's
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, Mapping) else {}
