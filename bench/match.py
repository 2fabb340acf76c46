"""Matcher latency per question on the shipped KB and on synthetic KBs of 1,000 and 10,000 entries.

Prints p50/p99 per question for our matcher and for a raw ``rapidfuzz.process.extractOne`` over the same
sample strings, measured in the same run, and the ratio between them.

    python bench/match.py [--questions N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.knowledge import Content, Entry, KnowledgeBase, LinkTable
from bot.core.matching import Matcher
from bot.core.text import normalize
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb


def _word(rng: random.Random) -> str:
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))


def synthetic_kb(n: int, seed: int = 7) -> KnowledgeBase:
    """``n`` entries of pseudo-words with a Zipf-like vocabulary, 8 questions each."""
    rng = random.Random(seed)
    vocab = [_word(rng) for _ in range(max(2000, n * 3))]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    entries = []
    for i in range(n):

        def sentence(k: int) -> str:
            return " ".join(rng.choices(vocab, weights, k=k))

        content = Content(
            title=sentence(4),
            answer=sentence(30),
            questions=tuple(sentence(rng.randint(4, 8)) for _ in range(8)),
            keywords=tuple(sentence(1) for _ in range(3)),
        )
        entries.append(Entry(f"e{i}", None, {"en": content}))
    return KnowledgeBase(tuple(entries), LinkTable(site="https://example.org"))


def queries_for(kb: KnowledgeBase, count: int, seed: int = 11) -> list[str]:
    """Sample questions with a word dropped and a typo, plus off-topic noise."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        entry = rng.choice(kb.entries)
        content = next(iter(entry.content.values()))
        words = rng.choice(content.questions or (content.title,)).split()
        if len(words) > 3:
            words.pop(rng.randrange(len(words)))
        if words and rng.random() < 0.5:
            w = words[0]
            words[0] = w[:-1] + "x" if len(w) > 3 else w
        if rng.random() < 0.15:
            words = [_word(rng) for _ in words]
        out.append(" ".join(words))
    return out


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def measure(kb: KnowledgeBase, queries: list[str]) -> tuple[tuple[float, float], tuple[float, float], float]:
    """(ours p50, p99), (baseline p50, p99) in ms, and build time in s."""
    start = time.perf_counter()
    matcher = Matcher(kb)
    build = time.perf_counter() - start
    strings = [normalize(q) for e in kb.entries for c in e.content.values() for q in (*c.questions, c.title)]
    for q in queries[:50]:  # warm caches of both sides alike
        matcher.match(q)
        process.extractOne(normalize(q), strings, scorer=fuzz.WRatio)
    ours, base = [], []
    for q in queries:
        t0 = time.perf_counter()
        matcher.match(q)
        t1 = time.perf_counter()
        process.extractOne(normalize(q), strings, scorer=fuzz.WRatio)
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        base.append((t2 - t1) * 1000)
    return _percentiles(ours), _percentiles(base), build


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    shipped = load_kb(default_kb_dir({}))
    cases = [("shipped KB", shipped, None)]
    for n in (1000, 10_000):
        cases.append((f"synthetic {n:,}", synthetic_kb(n), None))
    print(
        f"{'KB':<18}{'entries':>8}{'build s':>9}{'ours p50':>10}{'ours p99':>10}"
        f"{'rf p50':>9}{'rf p99':>9}{'p99 ratio':>11}"
    )
    eval_questions = [
        "comment recruter des écoles ?",
        "exemple de plan logistique",
        "partager sur facebook",
        "page d'accueil du site",
        "organiser un événement",
        "après l'heure de code",
        "s'inscrire",
        "how do we sign up",
        "press kit for our event",
        "where is the parking",
        "zzzz",
    ]
    for name, kb, _ in cases:
        queries = (
            (eval_questions * (args.questions // len(eval_questions) + 1))[: args.questions]
            if kb is shipped
            else queries_for(kb, args.questions)
        )
        (o50, o99), (b50, b99), build = measure(kb, queries)
        print(
            f"{name:<18}{len(kb.entries):>8}{build:>9.2f}{o50:>9.3f}m{o99:>9.3f}m"
            f"{b50:>8.3f}m{b99:>8.3f}m{o99 / b99 if b99 else float('nan'):>10.2f}x"
        )
    print("ms per question; 'rf' = rapidfuzz.process.extractOne(WRatio) over the same sample strings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
