"""The question classifier: features, the pure-Python scorer against scikit-learn, storage, decisions."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
from array import array
from collections import Counter

import pytest

from bot.config import Settings
from bot.core import classifier
from bot.core.classifier import OFF_TOPIC, TextClassifier, feature_key, features, training_digest
from bot.core.errors import KnowledgeError
from bot.core.knowledge import Content, Entry, KnowledgeBase, LinkTable
from bot.core.matching import MatchConfig, Matcher
from bot.knowledge.train import TrainConfig, fit

SAMPLES = [
    ("recruit", "how do I get schools to take part"),
    ("recruit", "email to convince the principals"),
    ("recruit", "comment recruter des écoles"),
    ("recruit", "convaincre les directeurs d'école"),
    ("social", "what should we post on facebook"),
    ("social", "a tweet about our district"),
    ("social", "publier sur les réseaux sociaux"),
    ("social", "un message pour twitter"),
    (OFF_TOPIC, "what is the weather tomorrow"),
    (OFF_TOPIC, "canteen menu this week"),
    (OFF_TOPIC, "quel temps fera-t-il demain"),
    (OFF_TOPIC, "le menu de la cantine"),
]


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    return fit(SAMPLES)


# ----------------------------------------------------------------------------- features


def test_features_are_padded_char_ngrams_words_and_word_pairs() -> None:
    feats = features("Les écoles")
    assert "c l" in feats
    assert "cles " in feats
    assert "c ecol" in feats
    assert "c les " in feats
    assert "c eco" in feats
    assert "wles" in feats
    assert "wecoles" in feats
    assert "bles ecoles" in feats
    assert not any(f.startswith("c") and len(f) > 6 for f in feats)  # nothing longer than 5 characters


def test_features_ignore_case_accents_and_slack_markup() -> None:
    assert features("<@U0ABC> ÉCOLES !") == features("ecoles")


def test_features_of_a_pasted_page_are_bounded() -> None:
    assert len(features("mot " * 10_000)) == len(features("mot " * 120))


# ----------------------------------------------------------------------------- scoring


def test_pure_python_probabilities_equal_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    # A weight other than 1 for off-topic examples, so that the weighting is part of what is compared.
    cfg = TrainConfig(off_topic_weight=0.7)
    ordered = sorted(set(SAMPLES))
    vec = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=cfg.min_df)
    matrix = vec.fit_transform([t for _, t in ordered])
    labels = [label for label, _ in ordered]
    weights = {label: cfg.off_topic_weight if label == OFF_TOPIC else 1.0 for label in labels}
    assert OFF_TOPIC in weights
    reference = LogisticRegression(C=cfg.c, max_iter=cfg.max_iter, class_weight=weights).fit(matrix, labels)
    ours = fit(SAMPLES, cfg)
    for question in ("comment convaincre les écoles", "post on twitter", "météo de demain", "zzz", "école école"):
        expected = dict(zip(reference.classes_, reference.predict_proba(vec.transform([question]))[0], strict=True))
        got = dict(ours.predict(question).ranked)
        assert got.keys() == expected.keys()
        for label, p in expected.items():
            assert got[label] == pytest.approx(p, abs=1e-4), (question, label)


def test_prediction_ranks_classes_and_sums_to_one(model: TextClassifier) -> None:
    prediction = model.predict("comment recruter les écoles de la ville ?")
    assert prediction.best[0] == "recruit"
    assert sum(p for _, p in prediction.ranked) == pytest.approx(1.0)
    assert [p for _, p in prediction.ranked] == sorted((p for _, p in prediction.ranked), reverse=True)
    assert prediction.of("social") < prediction.best[1]
    assert prediction.of("nothing") == 0.0


def test_text_without_known_features_has_none(model: TextClassifier) -> None:
    prediction = model.predict("ж ж ж")
    assert prediction.known == 0
    assert prediction.coverage == 0.0


def test_coverage_tells_a_misspelt_word_from_gibberish() -> None:
    model = fit(SAMPLES, TrainConfig(min_df=1))
    known = model.predict("recruter")
    misspelt = model.predict("recrutr")
    gibberish = model.predict("xqzkwv")
    assert known.coverage == 1.0
    assert known.words_known == 1
    assert 0.5 < misspelt.coverage < 1.0
    assert misspelt.words_known == 0
    assert gibberish.coverage < 0.5
    assert gibberish.words_known == 0


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(x - top) for x in scores]
    return [e / sum(exps) for e in exps]


def test_a_model_with_many_classes_scores_its_strongest_weights_per_feature() -> None:
    classes = [f"e{i:02d}" for i in range(39)] + [OFF_TOPIC]
    intercept = [0.01 * (i % 5) for i in range(40)]
    # "ville" has 20 non-zero weights: the 4 weakest (0.1 .. 0.4) are dropped.
    ville = [0.1 * (i + 1) if i < 20 else 0.0 for i in range(40)]
    ecole = [0.0] * 38 + [3.0, 1.0]
    model = TextClassifier(classes, intercept, {"wecole": (1.5, ecole), "wville": (1.2, ville)})
    norm = math.sqrt(1.5**2 + 1.2**2)
    kept = [w if w > 0.45 else 0.0 for w in ville]
    expected = _softmax([b + (e + v) / norm for b, e, v in zip(intercept, ecole, kept, strict=True)])
    prediction = model.predict("ecole ville")
    assert prediction.known == 2
    assert prediction.best[0] == "e38"
    assert len(prediction.ranked) == 10
    for label, p in prediction.ranked:
        assert p == pytest.approx(expected[classes.index(label)], rel=1e-5)
    assert prediction.off_topic == pytest.approx(expected[-1], rel=1e-5)
    loaded = TextClassifier.from_json(model.to_json())
    again = loaded.predict("ecole ville")
    assert [label for label, _ in again.ranked] == [label for label, _ in prediction.ranked]
    assert [p for _, p in again.ranked] == pytest.approx([p for _, p in prediction.ranked], rel=1e-5)


# ----------------------------------------------------------------------------- storage


def test_training_is_deterministic_and_storage_round_trips(model: TextClassifier) -> None:
    again = fit(list(reversed(SAMPLES)))
    assert again.to_json() == model.to_json()
    loaded = TextClassifier.from_json(model.to_json())
    assert loaded.classes == model.classes
    assert loaded.digest == training_digest(SAMPLES)
    for question in ("convaincre les écoles", "facebook", "la cantine"):
        for (a, pa), (b, pb) in zip(loaded.predict(question).ranked, model.predict(question).ranked, strict=True):
            assert a == b
            assert pa == pytest.approx(pb, abs=1e-5)


def _keys(doc: dict[str, str]) -> list[int]:
    return list(array("Q", base64.b64decode(doc["feature_keys"])))


def _keys_b64(keys: list[int]) -> str:
    return base64.b64encode(array("Q", keys).tobytes()).decode("ascii")


def test_the_model_file_keeps_feature_keys_not_texts(model: TextClassifier) -> None:
    doc = json.loads(model.to_json())
    assert "features" not in doc
    keys = _keys(doc)
    assert "facebook" not in model.to_json()
    assert all(a < b for a, b in itertools.pairwise(keys))
    assert model.size == len(keys) > 0
    frequency = Counter(f for _, text in SAMPLES for f in set(features(text)))
    assert {feature_key(f) for f, n in frequency.items() if n >= 3} == set(keys)  # min_df 3


def test_two_features_with_one_key_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "feature_key", lambda feature: 7)
    with pytest.raises(ValueError, match="same key"):
        TextClassifier(["a", OFF_TOPIC], [0.0, 0.0], {"wone": (1.0, [1.0, 0.0]), "wtwo": (1.0, [0.0, 1.0])})


def test_digest_changes_with_any_example() -> None:
    assert training_digest(SAMPLES) != training_digest([*SAMPLES, ("social", "instagram")])
    assert training_digest(SAMPLES) != training_digest([("social", t) for _, t in SAMPLES])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "not json", "not valid JSON"),
        (lambda d: json.dumps({**d, "format": 99}), "not a model of format"),
        (lambda d: json.dumps({**d, "features_version": 0}), "trained on other features"),
        (lambda d: json.dumps({**d, "feature_keys": _keys_b64(_keys(d)[1:])}), "sizes do not agree"),
        (lambda d: json.dumps({**d, "feature_keys": _keys_b64(_keys(d)[::-1])}), "not in order"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "feature_keys"}), "malformed model"),
        (lambda d: json.dumps({**d, "weights": "%%%"}), "malformed model"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "classes"}), "malformed model"),
        (lambda d: json.dumps({**d, "intercept": d["intercept"][1:]}), "malformed model"),
    ],
)
def test_a_broken_model_file_is_refused_with_a_reason(model: TextClassifier, mutate: object, message: str) -> None:
    doc = json.loads(model.to_json())
    assert callable(mutate)
    with pytest.raises(KnowledgeError, match=message):
        TextClassifier.from_json(mutate(doc), "model.json")


# ----------------------------------------------------------------------------- decisions


def _kb(model: TextClassifier) -> KnowledgeBase:
    entries = tuple(Entry(eid, None, {"en": Content(title=eid, answer=f"About {eid}.")}) for eid in ("a", "b", "c"))
    return KnowledgeBase(entries, LinkTable(site="https://example.org"), model=model)


def _model(weights: dict[str, list[float]]) -> TextClassifier:
    """Classes a, b, c and off-topic; each word feature pushes the classes by its weights."""
    return TextClassifier(["a", "b", "c", OFF_TOPIC], [0.0] * 4, {f"w{w}": (1.0, v) for w, v in weights.items()})


WORDS = {
    "alpha": [9.0, 0.0, 0.0, 0.0],
    "beta": [0.0, 9.0, 0.0, 0.0],
    "gamma": [0.0, 0.0, 9.0, 0.0],
    "weather": [0.0, 0.0, 0.0, 9.0],
    "delta": [5.0, 4.8, 0.0, 0.0],  # a 55 %, b 45 %: both likely enough, too close to choose
    "salary": [3.0, 0.0, 0.0, 2.3],  # a 61 %, off-topic 30 %: likely, but off-topic is too likely to answer
}


@pytest.mark.parametrize(
    ("question", "decision", "topic", "suggestions"),
    [
        ("alpha", "answer", "a", ()),
        ("beta", "answer", "b", ()),
        # Two steps asked at once: both offered.
        ("alpha beta", "clarify", "a", ("a", "b")),
        ("alpha beta gamma", "clarify", "a", ("a", "b", "c")),
        # Two halves that each sound like a step, in a question off-topic as a whole: not offered.
        ("alpha or beta or weather weather", "fallback", None, ()),
        # Two entries within the margin: both offered.
        ("delta", "clarify", "a", ("a", "b")),
        # An entry likely enough, off-topic likely too: the entry is offered, not answered.
        ("salary", "clarify", "a", ("a",)),
        # Off-topic likelier than any entry.
        ("weather", "fallback", None, ()),
        ("alpha weather", "fallback", None, ()),
        # Nothing the model knows.
        ("unknown words", "fallback", None, ()),
    ],
)
def test_decisions_follow_the_probabilities(
    question: str, decision: str, topic: str | None, suggestions: tuple[str, ...]
) -> None:
    result = Matcher(_kb(_model(WORDS))).match(question)
    assert (result.decision, result.topic, result.suggestions) == (decision, topic, suggestions)


def test_thresholds_come_from_the_config() -> None:
    kb = _kb(_model(WORDS))
    assert Matcher(kb).match("alpha").decision == "answer"
    strict = Matcher(kb, MatchConfig(model_answer=100.0, model_clarify=10.0))
    assert strict.match("alpha").decision == "clarify"
    closed = Matcher(kb, MatchConfig(model_answer=100.0, model_clarify=100.0))
    assert closed.match("alpha").decision == "fallback"
    assert Matcher(kb, MatchConfig(model_margin=0.0)).match("delta").decision == "answer"
    assert Matcher(kb, Settings.from_env({"HOC_MODEL_MARGIN": "5"}).match).match("delta").decision == "answer"
    assert Matcher(kb, Settings.from_env({}).match).match("delta").decision == "clarify"
    assert Matcher(kb, MatchConfig(model_off_topic=35.0)).match("salary").decision == "answer"
    assert Matcher(kb, Settings.from_env({"HOC_MODEL_OFF_TOPIC": "35"}).match).match("salary").decision == "answer"
    assert Matcher(kb, Settings.from_env({}).match).match("salary").decision == "clarify"


def test_score_is_the_probability_in_percent() -> None:
    kb = _kb(_model(WORDS))
    result = Matcher(kb).match("alpha")
    probability = math.exp(9 * 1.0) / (math.exp(9 * 1.0) + 3)  # tf-idf of a lone word is 1
    assert result.score == pytest.approx(100 * probability, abs=0.1)


def test_without_a_model_the_word_overlap_matcher_decides() -> None:
    kb = _kb(_model(WORDS))
    plain = dataclasses.replace(kb, model=None)
    assert Matcher(plain).match("alpha").decision == "fallback"  # no entry text says alpha
    assert Matcher(plain).match("About b").topic in (None, "b")


def test_model_thresholds_are_read_from_the_environment() -> None:
    from bot.config import Settings

    settings = Settings.from_env({"HOC_MODEL_ANSWER": "70", "HOC_MODEL_CLARIFY": "30"})
    assert (settings.match.model_answer, settings.match.model_clarify) == (70.0, 30.0)
    assert Settings.from_env({}).match.model_answer == MatchConfig().model_answer


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOC_MODEL_ANSWER": "abc"}, "HOC_MODEL_ANSWER"),
        ({"HOC_MODEL_CLARIFY": "101"}, "HOC_MODEL_CLARIFY"),
        ({"HOC_MODEL_ANSWER": "20", "HOC_MODEL_CLARIFY": "30"}, "HOC_MODEL_CLARIFY: must not be above"),
    ],
)
def test_bad_model_thresholds_name_the_variable(env: dict[str, str], message: str) -> None:
    from bot.config import Settings
    from bot.core.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
