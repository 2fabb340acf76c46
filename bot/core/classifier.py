"""A linear text classifier over character and word n-grams, run without numpy or scikit-learn.

``hoc-bot kb train`` fits the model (TF-IDF features into a multinomial logistic regression, see
:mod:`bot.knowledge.train`) on the curated examples and writes it next to the entries as
``model.json``; at run time a question is turned into the same features and scored by a sparse dot
product, a fraction of a millisecond in pure Python.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import heapq
import itertools
import json
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import add, mul
from pathlib import Path
from typing import Any

from bot.core.errors import KnowledgeError
from bot.core.text import normalize

#: Bumped whenever :func:`features` changes: a model trained on other features is refused.
FEATURES_VERSION = 1
#: Format of ``model.json``: 2 names features by their :func:`feature_key`, not by their text.
MODEL_FORMAT = 2
#: The class of questions the knowledge base does not answer.
OFF_TOPIC = "none"
#: File name of the model in a knowledge directory.
MODEL_FILE = "model.json"
_CHAR_MIN, _CHAR_MAX = 2, 5
# Above this many classes a feature keeps only its non-zero weights (a large knowledge base).
_DENSE_CLASSES = 32
# A feature of a model with many classes keeps its strongest weights only: a letter pair found in
# every entry would otherwise cost a multiplication per entry.
_SPARSE_KEEP = 16
_RANKED = 10
# Words of a question that count; a pasted page would only cost time.
_MAX_WORDS = 120


def features(text: str) -> list[str]:
    """The features of a text: character 2–5-grams inside each word (padded with a space at both
    ends, so ``" ecole"`` marks a word start), words, and pairs of neighbouring words.

    The text is first normalised (markup stripped, folded: lower case, no accents, Arabic letter
    forms unified), so that typos, missing accents and inflected forms still share most n-grams
    with the examples.
    """
    words = normalize(text).split()[:_MAX_WORDS]
    out: list[str] = []
    append = out.append
    for word in words:
        padded = f" {word} "
        size = len(padded)
        for n in range(_CHAR_MIN, min(_CHAR_MAX, size) + 1):
            for i in range(size - n + 1):
                append("c" + padded[i : i + n])
        append("w" + word)
    for first, second in itertools.pairwise(words):
        append(f"b{first} {second}")
    return out


def feature_key(feature: str) -> int:
    """A feature as the model stores it: the first 64 bits of its BLAKE2b digest.

    Kept as one sorted array of integers, 55,000 features cost 0.4 MB, where a dictionary of their
    texts cost 9 MB and twice that while the file was read. Two features of one model never share a
    key (:class:`TextClassifier` refuses it); a text's feature unknown to the model could take the key
    of a known one with a chance of one in 300 trillion per feature.
    """
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def training_digest(samples: Iterable[tuple[str, str]]) -> str:
    """A fingerprint of labelled training texts, to tell a model that no longer fits its examples."""
    digest = hashlib.sha256(f"features:{FEATURES_VERSION}\n".encode())
    for label, text in sorted(samples):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the classifier makes of a text.

    Attributes:
        ranked: The most probable classes (up to ten) with their probabilities, best first.
        off_topic: Probability of :data:`OFF_TOPIC` (0 when the model has no such class).
        known: How many distinct features of the text the model knows (0: it can say nothing).
        coverage: Share of the character n-grams the model knows, in the text's best-known word: near
            1 when a word was seen in some form (typos, inflections and Korean particles included),
            low when no word was (gibberish, another script).
        words_known: How many of the text's words the model knows as whole words.
    """

    ranked: tuple[tuple[str, float], ...]
    off_topic: float
    known: int
    coverage: float = 1.0
    words_known: int = 0

    @property
    def best(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        return self.ranked[0]

    def of(self, label: str) -> float:
        """Probability of ``label`` when it is among the ranked classes, else 0."""
        return next((p for c, p in self.ranked if c == label), 0.0)


class TextClassifier:
    """Multinomial logistic regression on TF-IDF features (sublinear term frequency, L2-normalised).

    Args:
        classes: Class labels (entry ids and :data:`OFF_TOPIC`).
        intercept: One bias per class.
        rows: Feature -> (inverse document frequency, weight per class: a list, or a mapping of
            class number to weight for the non-zero ones). Weights are already multiplied by the
            feature's idf. With more than 32 classes a feature keeps its 16 strongest weights.
        digest: :func:`training_digest` of the examples it was trained on.
    """

    def __init__(
        self,
        classes: Sequence[str],
        intercept: Sequence[float],
        rows: Mapping[str, tuple[float, Sequence[float] | Mapping[int, float]]],
        digest: str = "",
    ) -> None:
        if len(intercept) != len(classes):
            raise ValueError("one intercept per class")
        self.classes = tuple(classes)
        self.intercept = tuple(float(b) for b in intercept)
        self.digest = digest
        self._off_topic = self.classes.index(OFF_TOPIC) if OFF_TOPIC in self.classes else None
        # For the sparse layout: the classes likeliest when no feature speaks for them, and the
        # softmax mass of all intercepts (relative to the largest).
        self._by_intercept = heapq.nlargest(_RANKED, range(len(self.intercept)), key=self.intercept.__getitem__)
        self._max_intercept = max(self.intercept, default=0.0)
        self._intercept_mass = sum(math.exp(x - self._max_intercept) for x in self.intercept)
        k = len(self.classes)
        self._dense = k <= _DENSE_CLASSES
        # Rows are sorted by feature key; a feature is found by bisecting ``_keys``. Rows live in flat
        # float32 arrays (a float object per weight would cost ten times the memory). Dense: row i is
        # weights[i*k:(i+1)*k]. Sparse (many classes): row i is the non-zero (class, weight) pairs from
        # starts[i] to starts[i+1].
        keyed = sorted((feature_key(feature), feature, row) for feature, row in rows.items())
        for (key, feature, _), (next_key, other, _) in itertools.pairwise(keyed):
            if key == next_key:
                raise ValueError(f"features {feature!r} and {other!r} have the same key")
        self._keys = array("Q", (key for key, _, _ in keyed))
        self._idf = array("f")
        self._weights = array("f")
        self._classes_of = array("I")
        self._starts = array("I", [0])
        for _, feature, (idf, weights) in keyed:
            if isinstance(weights, Mapping):
                if any(not 0 <= cls < k for cls in weights):
                    raise ValueError(f"feature {feature!r}: class number out of range")
                pairs = [(cls, float(w)) for cls, w in weights.items()]
            elif len(weights) != k:
                raise ValueError(f"feature {feature!r}: one weight per class")
            else:
                pairs = list(enumerate(weights))
            self._idf.append(idf)
            if self._dense:
                row = [0.0] * k
                for cls, w in pairs:
                    row[cls] = w
                self._weights.extend(row)
            else:
                kept = heapq.nlargest(_SPARSE_KEEP, (cw for cw in pairs if cw[1]), key=_magnitude)
                for cls, w in sorted(kept):
                    self._classes_of.append(cls)
                    self._weights.append(w)
                self._starts.append(len(self._weights))

    @property
    def size(self) -> int:
        """Number of features the model knows."""
        return len(self._keys)

    def _row_of(self, feature: str, keys: dict[str, int | None]) -> int | None:
        """Row of ``feature``, or None when the model does not know it (``keys`` caches the answer
        for the text being scored: its short n-grams come back many times)."""
        if feature in keys:
            return keys[feature]
        key = feature_key(feature)
        table = self._keys
        i = bisect.bisect_left(table, key)
        row = i if i < len(table) and table[i] == key else None
        keys[feature] = row
        return row

    def predict(self, text: str) -> Prediction:
        """Class probabilities of ``text``."""
        counts: dict[int, int] = {}
        seen: dict[str, int | None] = {}
        row_of = self._row_of
        grams: set[str] = set()
        known_grams = words_known = 0
        coverage = 0.0
        for feature in features(text):
            row = row_of(feature, seen)
            kind = feature[0]
            if kind == "c" and feature not in grams:
                grams.add(feature)
                known_grams += row is not None
            elif kind == "w":  # a word's n-grams come just before it
                words_known += row is not None
                if grams:
                    coverage = max(coverage, known_grams / len(grams))
                grams.clear()
                known_grams = 0
            if row is not None:
                counts[row] = counts.get(row, 0) + 1
        values: dict[int, float] = {}
        if counts:
            idf = self._idf
            values = {row: 1.0 + math.log(n) for row, n in counts.items()}
            norm = math.sqrt(sum((v * idf[row]) ** 2 for row, v in values.items())) or 1.0
            values = {row: v / norm for row, v in values.items()}
        if self._dense:
            return replace(self._dense_prediction(values), coverage=coverage, words_known=words_known)
        return replace(self._sparse_prediction(values), coverage=coverage, words_known=words_known)

    def _dense_prediction(self, values: Mapping[int, float]) -> Prediction:
        scores = list(self.intercept)
        weights = self._weights
        k = len(scores)
        for row, value in values.items():
            scores = list(map(add, scores, map(mul, weights[row * k : (row + 1) * k], (value,) * k)))
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        best = heapq.nlargest(_RANKED, range(k), key=exps.__getitem__)
        ranked = tuple((self.classes[i], exps[i] / total) for i in best)
        off_topic = exps[self._off_topic] / total if self._off_topic is not None else 0.0
        return Prediction(ranked, off_topic, len(values))

    def _sparse_prediction(self, values: Mapping[int, float]) -> Prediction:
        """Only the classes the text's features touch are scored; the others keep their intercept,
        whose share of the softmax is known in advance: the cost follows the text, not the number
        of classes."""
        b = self.intercept
        touched: dict[int, float] = {}
        starts, classes_of, weights = self._starts, self._classes_of, self._weights
        for row, value in values.items():
            for j in range(starts[row], starts[row + 1]):
                cls = classes_of[j]
                touched[cls] = touched.get(cls, b[cls]) + value * weights[j]
        candidates = dict(touched)
        for cls in self._by_intercept:
            candidates.setdefault(cls, b[cls])
        if self._off_topic is not None:
            candidates.setdefault(self._off_topic, b[self._off_topic])
        top = max(candidates.values())
        untouched = self._intercept_mass - sum(math.exp(b[c] - self._max_intercept) for c in touched)
        total = max(untouched, 0.0) * math.exp(self._max_intercept - top)
        total += sum(math.exp(s - top) for s in touched.values())
        best = heapq.nlargest(_RANKED, candidates, key=lambda c: (candidates[c], -c))
        ranked = tuple((self.classes[c], math.exp(candidates[c] - top) / total) for c in best)
        off_topic = 0.0
        if self._off_topic is not None:
            off_topic = math.exp(candidates[self._off_topic] - top) / total
        return Prediction(ranked, off_topic, len(values))

    # ------------------------------------------------------------------ storage
    def to_json(self) -> str:
        """The model as deterministic JSON: feature keys as little-endian uint64, weights as
        little-endian float32, each base64-encoded."""
        weights = array("f")
        for i in range(len(self._keys)):
            weights.extend(self._row(i))
        doc = {
            "format": MODEL_FORMAT,
            "features_version": FEATURES_VERSION,
            "trained_on": self.digest,
            "classes": list(self.classes),
            "intercept": [round(b, 6) for b in self.intercept],
            "feature_keys": _b64(self._keys),
            "idf": _b64(self._idf),
            "weights": _b64(weights),
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"

    def _row(self, i: int) -> array[float]:
        k = len(self.classes)
        if self._dense:
            return self._weights[i * k : (i + 1) * k]
        row = array("f", bytes(4 * k))
        for j in range(self._starts[i], self._starts[i + 1]):
            row[self._classes_of[j]] = self._weights[j]
        return row

    @classmethod
    def from_json(cls, text: str, source: str = MODEL_FILE) -> TextClassifier:
        """Read a model written by :meth:`to_json`; raises KnowledgeError when it cannot be used."""
        try:
            doc: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise KnowledgeError(f"{source}: not a model of format {MODEL_FORMAT}: run `hoc-bot kb train`")
        if doc.get("features_version") != FEATURES_VERSION:
            raise KnowledgeError(f"{source}: trained on other features: run `hoc-bot kb train`")
        try:
            classes = [str(c) for c in doc["classes"]]
            keys = _unb64(doc["feature_keys"], "Q")
            idf = _unb64(doc["idf"], "f")
            weights = _unb64(doc["weights"], "f")
            intercept = [float(b) for b in doc["intercept"]]
            digest = str(doc.get("trained_on", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeError(f"{source}: malformed model: {exc}") from None
        k = len(classes)
        if len(idf) != len(keys) or len(weights) != len(keys) * k:
            raise KnowledgeError(f"{source}: malformed model: sizes do not agree")
        if len(intercept) != k:
            raise KnowledgeError(f"{source}: malformed model: one intercept per class")
        if any(a >= b for a, b in itertools.pairwise(keys)):
            raise KnowledgeError(f"{source}: malformed model: feature keys not in order")
        model = cls(classes, intercept, {}, digest)
        model._keys = keys
        model._idf = idf
        if k <= _DENSE_CLASSES:  # the arrays are already the dense layout
            model._weights = weights
            return model
        for i in range(len(keys)):
            row = weights[i * k : (i + 1) * k]
            kept = heapq.nlargest(_SPARSE_KEEP, ((c, w) for c, w in enumerate(row) if w), key=_magnitude)
            for c, w in sorted(kept):
                model._classes_of.append(c)
                model._weights.append(w)
            model._starts.append(len(model._weights))
        return model

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Read ``model.json``; raises KnowledgeError when unreadable or malformed."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KnowledgeError(f"{path}: cannot read: {exc.strerror}") from None
        return cls.from_json(text, str(path))


def _b64(values: array[float] | array[int]) -> str:
    data = values.tobytes() if _LITTLE else _swapped(values).tobytes()
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, typecode: str) -> array[Any]:
    """An array of ``typecode`` ("f": float32, "Q": uint64) from little-endian base64."""
    if not isinstance(text, str):
        raise TypeError("base64 text expected")
    values: array[Any] = array(typecode)
    values.frombytes(base64.b64decode(text.encode("ascii"), validate=True))
    return values if _LITTLE else _swapped(values)


def _swapped(values: array[Any]) -> array[Any]:
    copy = array(values.typecode, values)
    copy.byteswap()
    return copy


def _magnitude(pair: tuple[int, float]) -> float:
    return abs(pair[1])


_LITTLE = array("H", [1]).tobytes() == b"\x01\x00"
