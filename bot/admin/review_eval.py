"""Accuracy of a knowledge directory's matcher on the team's evaluation sets, for a review's before/after.

Run as ``python -m bot.admin.review_eval KB_DIR EVAL_DIR``: it prints the figures per language as
JSON. A review runs it in a subprocess so that the bot's process never holds a second model.

The evaluation sets live where ``HOC_EVAL_DIR`` says, by default ``tests/fixtures/eval`` of a source
checkout; a deployment without them gets no figures rather than an error. Every ``*.yaml`` under the
directory counts: ``lang -> topic -> questions`` (``none`` for off-topic) or ``lang -> questions``
(all off-topic, as ``offtopic.yaml``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from bot.core.text import normalize

#: Environment variable naming the directory of evaluation sets.
EVAL_ENV = "HOC_EVAL_DIR"

Questions = dict[str, dict[str, list[str]]]

#: libyaml's safe loader when PyYAML has it (ten times faster on the examples and evaluation files).
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class EvalFigures:
    """One language's figures: strict top-1 accuracy on on-topic questions, off-topic ones answered."""

    lang: str
    total: int
    correct: int
    offtopic_total: int
    offtopic_answered: int

    @property
    def accuracy(self) -> float:
        """Share of on-topic questions answered with the right entry, in %."""
        return 100.0 * self.correct / self.total if self.total else 100.0


def eval_dir(env: Mapping[str, str]) -> Path | None:
    """The directory of evaluation sets: ``HOC_EVAL_DIR``, else a source checkout's, else None."""
    named = env.get(EVAL_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    checkout = Path(__file__).resolve().parent.parent.parent / "tests" / "fixtures" / "eval"
    return checkout if checkout.is_dir() else None


def load_sets(folder: Path | None) -> Questions:
    """Every evaluation question under ``folder``, ``{lang: {topic or "none": [questions]}}``.

    Files of another shape are left out; a missing folder gives nothing.
    """
    out: Questions = {}
    if folder is None or not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader, libyaml's or PyYAML's
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data, Mapping):
            continue
        for lang, topics in data.items():
            into = out.setdefault(str(lang), {})
            if isinstance(topics, list):
                into.setdefault("none", []).extend(q for q in topics if isinstance(q, str))
            elif isinstance(topics, Mapping):
                for topic, items in topics.items():
                    if isinstance(items, list):
                        into.setdefault(str(topic), []).extend(q for q in items if isinstance(q, str))
    return out


def evaluation_texts(folder: Path | None) -> dict[str, set[str]]:
    """``lang -> normalised questions`` of the evaluation sets (never to become examples)."""
    return {lang: {normalize(q) for qs in topics.values() for q in qs} for lang, topics in load_sets(folder).items()}


def figures(kb_dir: Path, folder: Path | None, env: Mapping[str, str]) -> dict[str, EvalFigures]:
    """The matcher of ``kb_dir`` on the evaluation sets, per language (empty without sets)."""
    questions = load_sets(folder)
    if not questions:
        return {}
    from bot.config import Settings
    from bot.core.matching import Matcher
    from bot.evaluate import evaluate
    from bot.knowledge.loader import load_kb

    matcher = Matcher(load_kb(kb_dir), Settings.from_env(env).match)
    return {
        r.lang: EvalFigures(r.lang, r.total, r.correct, r.none_total, r.false_answers)
        for r in evaluate(matcher, questions)
    }


def parse_figures(text: str) -> dict[str, EvalFigures]:
    """The figures printed by :func:`main`."""
    return {lang: EvalFigures(**fields) for lang, fields in json.loads(text).items()}


def main(argv: list[str] | None = None) -> int:
    """``KB_DIR [EVAL_DIR]``: print the figures as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        sys.stderr.write("usage: python -m bot.admin.review_eval KB_DIR [EVAL_DIR]\n")
        return 2
    folder = Path(args[1]) if len(args) > 1 else eval_dir(os.environ)
    result = figures(Path(args[0]), folder, os.environ)
    sys.stdout.write(json.dumps({lang: asdict(f) for lang, f in sorted(result.items())}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
