"""``hoc-bot kb train``: fit the question classifier on the curated examples, with scikit-learn.

scikit-learn is needed here only (``pip install 'hoc-bot[train]'``, or the test requirements); the
bot itself runs the written model without it (:class:`bot.core.classifier.TextClassifier`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.core.classifier import MODEL_FILE, OFF_TOPIC, TextClassifier, features, training_digest
from bot.core.errors import KnowledgeError
from bot.knowledge.examples import EXAMPLES_DIR, read_examples, training_samples
from bot.knowledge.loader import validate_kb


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Settings of the fit, chosen on the blind evaluation sets (see ``bench/accuracy.py``).

    Attributes:
        c: Inverse regularisation strength of the logistic regression.
        min_df: A feature must occur in this many training texts to be kept.
        max_iter: Iterations of the solver.
        off_topic_weight: Weight of an off-topic example against an entry's: below 1, the many
            near-domain negatives teach what is off-topic without drawing the entries' own
            questions towards it (the matcher's ``model_off_topic`` then keeps an entry from being
            answered outright while off-topic stays likely).
    """

    c: float = 100.0
    min_df: int = 3
    max_iter: int = 5000
    off_topic_weight: float = 0.7


def fit(samples: Sequence[tuple[str, str]], config: TrainConfig | None = None) -> TextClassifier:
    """A classifier fitted on ``(label, text)`` pairs; deterministic for the same samples."""
    try:
        import numpy
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # pragma: no cover - depends on the environment
        raise KnowledgeError(
            "training needs scikit-learn: pip install -r requirements-test.txt (or 'hoc-bot[train]')"
        ) from None
    cfg = config or TrainConfig()
    ordered = sorted(set(samples))
    labels = sorted({label for label, _ in ordered})
    if len(labels) < 2:
        raise KnowledgeError("training needs examples of at least two classes")
    texts = [text for _, text in ordered]
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=cfg.min_df, dtype=numpy.float64)
    matrix = vectorizer.fit_transform(texts)
    weights = {label: cfg.off_topic_weight if label == OFF_TOPIC else 1.0 for label in labels}
    model: Any = LogisticRegression(C=cfg.c, max_iter=cfg.max_iter, class_weight=weights)
    model.fit(matrix, [label for label, _ in ordered])
    classes = [str(c) for c in model.classes_]
    idf = vectorizer.idf_
    coef = model.coef_
    if len(classes) == 2:  # a binary model has one row of weights: make it one per class
        coef = [-coef[0], coef[0]]
        intercept = [-float(model.intercept_[0]), float(model.intercept_[0])]
    else:
        intercept = [float(b) for b in model.intercept_]
    rows = {
        str(name): (float(idf[i]), [float(coef[c][i]) * float(idf[i]) for c in range(len(classes))])
        for name, i in vectorizer.vocabulary_.items()
    }
    return TextClassifier(classes, intercept, rows, training_digest(ordered))


@dataclass(frozen=True, slots=True)
class TrainingData:
    """What a knowledge directory teaches: labelled samples, or the problems that stop training."""

    samples: list[tuple[str, str]]
    problems: list[str]


def training_data(kb_dir: Path) -> TrainingData:
    """The samples of a knowledge directory (examples plus curated entry fields)."""
    validation = validate_kb(kb_dir)
    if validation.kb is None:
        return TrainingData([], [str(p) for p in validation.problems])
    examples = read_examples(kb_dir, (entry.id for entry in validation.kb.entries))
    return TrainingData(training_samples(validation.kb, examples), examples.problems)


def training_problems(kb_dir: Path) -> list[str]:
    """Problems of the examples, or of ``model.json`` when it was trained on other examples than
    today's (for ``kb check``). A knowledge directory with neither examples nor a model has none:
    the bot then matches by word overlap alone. Problems of the entries are left to ``kb check``."""
    path = kb_dir / MODEL_FILE
    if not (kb_dir / EXAMPLES_DIR).is_dir() and not path.exists():
        return []
    validation = validate_kb(kb_dir)
    if validation.kb is None:
        return []
    examples = read_examples(kb_dir, (entry.id for entry in validation.kb.entries))
    if examples.problems:
        return examples.problems
    if not path.exists():
        return [f"{path}:1: no model: run `hoc-bot kb train`"]
    try:
        model = TextClassifier.load(path)
    except KnowledgeError as exc:
        return [str(exc)]
    samples = training_samples(validation.kb, examples)
    if model.digest != training_digest(sorted(set(samples))):
        return [f"{path}:1: the examples or entries changed since the model was trained: run `hoc-bot kb train`"]
    return []


def train_command(kb_dir: Path, *, stdout: TextIO, stderr: TextIO, config: TrainConfig | None = None) -> int:
    """Fit the model of ``kb_dir`` and write ``kb_dir/model.json``; 1 (nothing written) on problems."""
    data = training_data(kb_dir)
    if data.problems:
        for problem in data.problems:
            stderr.write(problem + "\n")
        stderr.write(f"kb train: {len(data.problems)} problem(s); nothing written\n")
        return 1
    try:
        model = fit(data.samples, config)
    except KnowledgeError as exc:
        stderr.write(f"kb train: {exc}\n")
        return 1
    path = kb_dir / MODEL_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(model.to_json(), encoding="utf-8")
    tmp.replace(path)
    stdout.write(f"{path}: {len(set(data.samples))} examples, {len(model.classes)} classes, {model.size} features\n")
    return 0
