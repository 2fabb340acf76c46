"""Matcher latency per question on the shipped KB and on synthetic KBs of 1,000 and 10,000 entries.

Prints p50/p99 per question for the word-overlap matcher, for the trained classifier, and for a raw
``rapidfuzz.process.extractOne`` over the same sample strings, measured in the same run, and the
ratio of the classifier's p99 to rapidfuzz's. The shipped KB uses its trained ``model.json``; a
synthetic KB gets a model of the same format and sparsity built without scikit-learn (each entry's
weights are the mean TF-IDF vector of its questions, pruned like a trained model with that many
classes): its latency, not its accuracy, is what this measures.

    python bench/match.py [--questions N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dataclasses
import math
from collections import Counter, defaultdict

from bot.core.classifier import OFF_TOPIC, TextClassifier, features
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


def synthetic_model(kb: KnowledgeBase) -> TextClassifier:
    """A classifier over ``kb``'s sample questions: mean TF-IDF vector of each entry's questions."""
    docs: list[tuple[int, Counter[str]]] = []
    for idx, entry in enumerate(kb.entries):
        for content in entry.content.values():
            for question in (*content.questions, content.title):
                docs.append((idx, Counter(features(question))))
    df: Counter[str] = Counter()
    for _, counts in docs:
        df.update(counts.keys())
    n = len(docs)
    idf = {f: 1.0 + math.log((1 + n) / (1 + d)) for f, d in df.items()}
    weights: dict[str, dict[int, float]] = defaultdict(dict)
    for idx, counts in docs:
        vec = {f: (1.0 + math.log(c)) * idf[f] for f, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        for f, v in vec.items():
            row = weights[f]
            row[idx] = row.get(idx, 0.0) + 8.0 * v / norm * idf[f]
    classes = [e.id for e in kb.entries] + [OFF_TOPIC]
    intercept = [0.0] * (len(classes) - 1) + [1.0]
    return TextClassifier(classes, intercept, {f: (idf[f], row) for f, row in weights.items()})


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


Timing = tuple[float, float]


def measure(kb: KnowledgeBase, queries: list[str]) -> tuple[Timing, Timing, Timing, float]:
    """(overlap p50, p99), (classifier p50, p99), (baseline p50, p99) in ms, and build time in s."""
    assert kb.model is not None
    start = time.perf_counter()
    overlap = Matcher(dataclasses.replace(kb, model=None))
    build = time.perf_counter() - start
    model = Matcher(kb)
    strings = [normalize(q) for e in kb.entries for c in e.content.values() for q in (*c.questions, c.title)]
    for q in queries[:50]:  # warm caches of every side alike
        overlap.match(q)
        model.match(q)
        process.extractOne(normalize(q), strings, scorer=fuzz.WRatio)
    ours, learnt, base = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        overlap.match(q)
        t1 = time.perf_counter()
        model.match(q)
        t2 = time.perf_counter()
        process.extractOne(normalize(q), strings, scorer=fuzz.WRatio)
        t3 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        learnt.append((t2 - t1) * 1000)
        base.append((t3 - t2) * 1000)
    return _percentiles(ours), _percentiles(learnt), _percentiles(base), build


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    shipped = load_kb(default_kb_dir(os.environ))
    cases = [("shipped KB", shipped, None)]
    if shipped.model is None:
        print("no model.json: run `hoc-bot kb train` first")
        return 1
    for n in (1000, 10_000):
        kb = synthetic_kb(n)
        cases.append((f"synthetic {n:,}", dataclasses.replace(kb, model=synthetic_model(kb)), None))
    print(
        f"{'KB':<18}{'entries':>8}{'build s':>9}{'words p50':>10}{'words p99':>10}{'model p50':>10}{'model p99':>10}"
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
        (o50, o99), (m50, m99), (b50, b99), build = measure(kb, queries)
        print(
            f"{name:<18}{len(kb.entries):>8}{build:>9.2f}{o50:>9.3f}m{o99:>9.3f}m{m50:>9.3f}m{m99:>9.3f}m"
            f"{b50:>8.3f}m{b99:>8.3f}m{m99 / b99 if b99 else float('nan'):>10.2f}x"
        )
    print(
        "ms per question; 'words' = word-overlap matcher, 'model' = classifier (what the bot runs),"
        " 'rf' = rapidfuzz.process.extractOne(WRatio) over the same sample strings; ratio = model p99 / rf p99"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
