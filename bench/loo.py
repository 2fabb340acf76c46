"""Leave-one-out accuracy of the matcher on the knowledge base's own curated questions.

Each curated sample question is taken out of its entry and asked; the figures estimate how the
matcher does on questions it has never seen. Prints accuracy, clarify and fallback rates per language.

    python bench/loo.py [--lang fr --lang en]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.matching import MatchConfig, Matcher
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb


def without(kb: KnowledgeBase, entry_id: str, lang: str, question: str) -> KnowledgeBase:
    """``kb`` with one sample question removed."""
    entries = []
    for entry in kb.entries:
        if entry.id == entry_id:
            content = dict(entry.content)
            c = content[lang]
            content[lang] = dataclasses.replace(c, questions=tuple(q for q in c.questions if q != question))
            entry = Entry(entry.id, entry.step, content)
        entries.append(entry)
    return KnowledgeBase(tuple(entries), kb.links)


def run(kb: KnowledgeBase, langs: list[str], config: MatchConfig, verbose: bool) -> dict[str, Counter[str]]:
    """Outcome counts per language."""
    out: dict[str, Counter[str]] = {}
    for lang in langs:
        counts: Counter[str] = Counter()
        for entry in kb.entries:
            content = entry.content.get(lang)
            if content is None:
                continue
            for question in content.questions:
                result = Matcher(without(kb, entry.id, lang, question), config).match(question)
                if result.decision == "answer":
                    outcome = "right" if result.topic == entry.id else "wrong"
                else:
                    outcome = result.decision
                counts[outcome] += 1
                if verbose and outcome != "right":
                    print(f"  {lang} {entry.id:<20} {outcome:<8} {result.topic} {result.score:5.1f} {question!r}")
        out[lang] = counts
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", action="append", help="languages (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    kb = load_kb(default_kb_dir({}))
    langs = args.lang or list(kb.languages)
    results = run(kb, langs, MatchConfig(), args.verbose)
    print(f"{'lang':<6}{'n':>5}{'right':>8}{'wrong':>8}{'clarify':>9}{'fallback':>10}")
    for lang, c in results.items():
        n = sum(c.values()) or 1
        print(
            f"{lang:<6}{n:>5}{100 * c['right'] / n:>7.1f}%{100 * c['wrong'] / n:>7.1f}%"
            f"{100 * c['clarify'] / n:>8.1f}%{100 * c['fallback'] / n:>9.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
