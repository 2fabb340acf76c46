"""Strict top-1 accuracy per language, today's word-overlap matcher and the trained classifier side
by side, in the same run, on question sets kept apart:

- ``cv``: how each matcher does on its own training data with each question held out — for the
  word-overlap matcher, leave-one-out over the entries' curated sample questions; for the
  classifier, 10-fold cross-validation over the examples (a fit per question would take hours).
- ``tuned``: the team's own sets (``tests/fixtures/eval/questions.yaml``, ``multilingual.yaml``,
  ``offtopic.yaml``), which the word-overlap matcher was tuned on.
- ``blind``: ``tests/fixtures/eval/blind/`` and ``blind-2/``, ``blind-3/``…, written without seeing
  the knowledge base and frozen before the classifier's settings and examples were chosen on them
  (``blind-2`` and later were the fresh sets of earlier rounds: once scored, a fresh set becomes a
  blind set and a new one is written).
- ``fresh``: ``tests/fixtures/eval/fresh/``, written the same way after the last tuning and
  never tuned on: the figure that predicts users; ``fresh unseen`` leaves out its questions that are,
  once normalised, a text the model learnt from (an example, a sample question, a keyword or a title).

Accuracy counts an answer with the right entry; ``off`` is how many off-topic questions got an
answer (a choice offered or a fallback is fine).

    python bench/accuracy.py [--skip-cv] [--lang fr --lang en] [--misses fresh]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bot.core.classifier import OFF_TOPIC
from bot.core.knowledge import KnowledgeBase
from bot.core.matching import MatchConfig, Matcher
from bot.core.text import normalize
from bot.knowledge import default_kb_dir
from bot.knowledge.examples import read_examples, training_samples
from bot.knowledge.loader import load_kb

EVAL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval"
Questions = dict[str, dict[str, list[str]]]


@dataclasses.dataclass
class Score:
    """Right answers among on-topic questions, answers given to off-topic ones."""

    right: int = 0
    total: int = 0
    off_answered: int = 0
    off_total: int = 0
    misses: list[str] = dataclasses.field(default_factory=list)

    def cell(self) -> str:
        if not self.total and not self.off_total:
            return "-"
        acc = f"{100 * self.right / self.total:5.1f}%" if self.total else "    -"
        return f"{acc} {self.off_answered:>2}/{self.off_total:<2}"


def _merge(into: Questions, data: Mapping[str, object]) -> None:
    for lang, topics in data.items():
        bucket = into.setdefault(str(lang), {})
        if isinstance(topics, list):  # offtopic.yaml: lang -> questions
            bucket.setdefault("none", []).extend(str(q) for q in topics)
        elif isinstance(topics, Mapping):
            for topic, items in topics.items():
                bucket.setdefault(str(topic), []).extend(str(q) for q in items)


def load_set(*paths: Path) -> Questions:
    """Questions of YAML files or of every ``*.yaml`` of a directory, by language and topic."""
    out: Questions = {}
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            _merge(out, yaml.safe_load(file.read_text(encoding="utf-8")) or {})
    return out


def score(matcher: Matcher, questions: Questions) -> dict[str, Score]:
    """Outcome per language."""
    out: dict[str, Score] = {}
    for lang, topics in questions.items():
        s = out.setdefault(lang, Score())
        for topic, items in topics.items():
            for question in items:
                result = matcher.match(question)
                answered = result.decision == "answer"
                if topic == "none":
                    s.off_total += 1
                    s.off_answered += answered
                    if answered:
                        s.misses.append(f"{lang} none -> {result.topic} {result.score:.0f}: {question}")
                    continue
                s.total += 1
                if answered and result.topic == topic:
                    s.right += 1
                else:
                    got = result.topic if answered else result.decision
                    s.misses.append(f"{lang} {topic} -> {got} {result.score:.0f}: {question}")
    return out


def overlap_loo(kb: KnowledgeBase, langs: Sequence[str]) -> dict[str, Score]:
    """Leave-one-out of the word-overlap matcher on the entries' curated sample questions."""
    from bench.loo import without

    out: dict[str, Score] = {}
    for lang in langs:
        s = out.setdefault(lang, Score())
        for entry in kb.entries:
            content = entry.content.get(lang)
            for question in content.questions if content else ():
                result = Matcher(without(kb, entry.id, lang, question)).match(question)
                s.total += 1
                s.right += result.decision == "answer" and result.topic == entry.id
    return out


def classifier_cv(kb: KnowledgeBase, kb_dir: Path, langs: Sequence[str], folds: int = 10) -> dict[str, Score]:
    """k-fold cross-validation of the classifier on the examples (the entries' fields always train)."""
    from bot.knowledge.train import fit

    examples = read_examples(kb_dir, (e.id for e in kb.entries))
    fixed = training_samples(kb, dataclasses.replace(examples, items=[]))
    items = sorted(examples.items, key=lambda e: (e.lang, e.label, e.text))
    random.Random(5).shuffle(items)
    out: dict[str, Score] = {lang: Score() for lang in langs}
    for k in range(folds):
        held = items[k::folds]
        held_set = {id(e) for e in held}
        train = fixed + [(e.label, e.text) for e in items if id(e) not in held_set]
        matcher = Matcher(dataclasses.replace(kb, model=fit(train)))
        for example in held:
            if example.lang not in out:
                continue
            s = out[example.lang]
            result = matcher.match(example.text)
            answered = result.decision == "answer"
            if example.label == OFF_TOPIC:
                s.off_total += 1
                s.off_answered += answered
            else:
                s.total += 1
                s.right += answered and result.topic == example.label
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", action="append", help="languages (default: all)")
    parser.add_argument("--skip-cv", action="store_true", help="leave out leave-one-out and cross-validation")
    parser.add_argument("--misses", action="append", default=[], help="print the misses of this set (blind, fresh…)")
    args = parser.parse_args()
    kb_dir = default_kb_dir(os.environ)
    kb = load_kb(kb_dir)
    if kb.model is None:
        print("no model.json: run `hoc-bot kb train` first")
        return 1
    langs = args.lang or ["fr", "en", "es", "de", "it", "pt", "nl", "tr", "ko", "ar"]
    sets = {
        "tuned": load_set(EVAL / "questions.yaml", EVAL / "multilingual.yaml", EVAL / "offtopic.yaml"),
        "blind": load_set(*sorted(path for path in EVAL.glob("blind*") if path.is_dir())),
        "fresh": load_set(EVAL / "fresh") if (EVAL / "fresh").is_dir() else {},
    }
    # A blind writer may write, word for word, a text the model learnt from: without those, the
    # fresh figure is only about questions the model never saw.
    learnt = {normalize(text) for _, text in training_samples(kb, read_examples(kb_dir, [e.id for e in kb.entries]))}
    sets["fresh unseen"] = {
        lang: {topic: [q for q in items if normalize(q) not in learnt] for topic, items in topics.items()}
        for lang, topics in sets["fresh"].items()
    }
    matchers = {"overlap": Matcher(dataclasses.replace(kb, model=None), MatchConfig()), "model": Matcher(kb)}
    table: dict[tuple[str, str], dict[str, Score]] = defaultdict(dict)
    timings: dict[str, float] = {}
    if not args.skip_cv:
        start = time.perf_counter()
        table[("cv", "overlap")] = overlap_loo(dataclasses.replace(kb, model=None), langs)
        table[("cv", "model")] = classifier_cv(kb, kb_dir, langs)
        timings["cv"] = time.perf_counter() - start
    for name, questions in sets.items():
        if not questions:
            continue
        for mname, matcher in matchers.items():
            table[(name, mname)] = score(matcher, {lang: questions[lang] for lang in langs if lang in questions})
    columns = list(table)
    header = "lang " + "".join(f"{f'{s} {m}':>18}" for s, m in columns)
    print(header)
    for lang in langs:
        print(f"{lang:<5}" + "".join(f"{table[c].get(lang, Score()).cell():>18}" for c in columns))
    print("cells: strict top-1 accuracy on on-topic questions, then off-topic questions answered / asked")
    for wanted in args.misses:
        for mname in matchers:
            for lang in langs:
                for line in table.get((wanted, mname), {}).get(lang, Score()).misses:
                    print(f"  [{wanted} {mname}] {line}")
    if timings:
        print(f"cv took {timings['cv']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
