"""The matcher on the shipped knowledge base: normalisation, tokens, decisions, languages, thresholds."""

from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.knowledge import KnowledgeBase
from bot.core.matching import MatchConfig, Matcher
from bot.core.text import normalize, strip_markup, tokens
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb

EVAL_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(default_kb_dir())


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U0LAN0Z89> on cherche des écoles", "on cherche des ecoles"),
        ("<!here> réunion", "reunion"),
        ("voir <https://x.org|le lien> ici", "voir le lien ici"),
        ("voir <https://x.org/page> ici", "voir ici"),
        ("dans <#C0123ABC|general> svp", "dans general svp"),
        ("c'est *gras* et _penché_ et ~barré~", "c est gras et penche et barre"),
        ("l’école", "l ecole"),
        ("l'école", "l ecole"),
        ("Événement À L'ÉCOLE, ça marche", "evenement a l ecole ca marche"),
        ("super 🎉🚀 idée 👍🏽", "super idee"),
        ("  trop \t d'espaces\n\n  ici  ", "trop d espaces ici"),
    ],
)
def test_normalize_strips_markup_accents_emoji_and_spaces(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_both_apostrophes_give_the_same_text() -> None:
    assert normalize("l’école") == normalize("l'école") == normalize("l`école")


def test_slack_link_keeps_its_label_and_drops_its_url() -> None:
    stripped = strip_markup("<https://x.org|le lien>")
    assert "le lien" in stripped
    assert "x.org" not in stripped


def test_emphasis_markers_removed_but_inner_text_kept() -> None:
    assert strip_markup("*gras*").strip() == "gras"
    assert "*" not in strip_markup("un mot en *gras* ici")


def test_arabic_diacritics_tatweel_and_alef_forms_are_unified() -> None:
    plain = "المدارس"
    assert normalize("الْمَدَارِسُ") == plain  # harakat
    assert normalize("المـــدارس") == plain  # tatweel
    assert normalize("أحمد") == normalize("إحمد") == normalize("آحمد") == normalize("ٱحمد") == "احمد"


def test_hangul_stays_composed() -> None:
    folded = normalize("학교를 모집하는 방법")
    assert folded == "학교를 모집하는 방법"
    assert unicodedata.is_normalized("NFC", folded)
    # No conjoining jamo: each syllable is one code point, as the knowledge base stores them.
    assert all(not 0x1100 <= ord(ch) <= 0x11FF for ch in folded)


def test_slack_markup_does_not_change_the_match(matcher: Matcher) -> None:
    plain = matcher.match("on cherche à faire participer les écoles")
    marked = matcher.match("<@U0LAN0Z89> on cherche à faire participer les *écoles*")
    assert (marked.decision, marked.topic) == (plain.decision, plain.topic)
    assert plain.topic == "recruit-schools"


# ----------------------------------------------------------------------------- tokens


def test_japanese_text_without_spaces_becomes_bigrams() -> None:
    toks = tokens(normalize("学校を募集する方法"))
    assert {"学校", "募集", "方法"} <= set(toks)
    assert all(len(t) <= 2 for t in toks)


def test_chinese_text_becomes_overlapping_bigrams() -> None:
    assert tokens(normalize("如何招募学校")) == ["如何", "何招", "招募", "募学", "学校"]


def test_single_cjk_character_is_kept() -> None:
    assert tokens(normalize("学")) == ["学"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("المدارس", "مدارس"), ("بالمدارس", "مدارس"), ("والمعلمين", "معلمين"), ("للمدارس", "مدارس")],
)
def test_arabic_article_and_clitics_are_stripped(word: str, expected: str) -> None:
    assert tokens(normalize(word)) == [expected]


def test_arabic_short_word_keeps_its_letters() -> None:
    # Stripping "ال" from a four-letter word would leave too little to match on.
    assert tokens(normalize("الكل")) == ["الكل"]


def test_stop_words_are_dropped() -> None:
    assert tokens("comment recruter des ecoles", {"comment", "des"}) == ["recruter", "ecoles"]


# ----------------------------------------------------------------------------- off topic


def _offtopic() -> list[tuple[str, str]]:
    data = yaml.safe_load((EVAL_DIR / "offtopic.yaml").read_text(encoding="utf-8"))
    return [(lang, q) for lang, questions in data.items() for q in questions]


def test_offtopic_fixture_is_not_empty() -> None:
    langs = {lang for lang, _ in _offtopic()}
    assert {"fr", "en"} <= langs
    assert len(_offtopic()) >= 20


@pytest.mark.parametrize(("lang", "question"), _offtopic())
def test_offtopic_questions_are_never_answered(matcher: Matcher, lang: str, question: str) -> None:
    result = matcher.match(question)
    assert result.decision != "answer", (lang, question, result)


# ----------------------------------------------------------------------------- on topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("comment recruter des écoles ?", "recruit-schools"),
        ("on veut poster sur twitter", "social-media"),
        ("recruter des ecolles", "recruit-schools"),
        ("plan logistque", "logistics-plan"),
        ("plan logistque pour les ecoles", "logistics-plan"),
    ],
)
def test_french_with_english_words_and_typos_is_answered(matcher: Matcher, question: str, topic: str) -> None:
    result = matcher.match(question)
    assert (result.decision, result.topic) == ("answer", topic), result
    assert result.suggestions == ()


# Written for this test: none of them is a sample question of the knowledge base (checked below).
OTHER_LANGUAGES = [
    ("fr", "comment embarquer les écoles de la commune ?", "recruit-schools"),
    ("fr", "quoi publier sur les réseaux sociaux ?", "social-media"),
    ("en", "how can we recruit schools nearby?", "recruit-schools"),
    ("en", "how do we post about it on social media?", "social-media"),
    ("es", "¿cómo reclutar escuelas locales?", "recruit-schools"),
    ("es", "¿cómo compartir en las redes sociales?", "social-media"),
    ("de", "wie können wir schulen gewinnen?", "recruit-schools"),
    ("de", "wie teilen wir das in sozialen medien?", "social-media"),
    ("it", "come reclutare le scuole?", "recruit-schools"),
    ("it", "come condividere sui social media?", "social-media"),
    ("pt", "como recrutar escolas?", "recruit-schools"),
    ("pt", "como partilhar nas redes sociais?", "social-media"),
    ("nl", "hoe werven we scholen?", "recruit-schools"),
    ("nl", "hoe delen we op sociale media?", "social-media"),
    ("tr", "okulları nasıl davet ederiz?", "recruit-schools"),
    ("tr", "sosyal medyada nasıl paylaşırız?", "social-media"),
    ("ko", "학교를 어떻게 모집하나요?", "recruit-schools"),
    ("ko", "소셜 미디어에 공유하는 방법", "social-media"),
    ("ar", "كيف نجند المدارس؟", "recruit-schools"),
    ("ar", "كيف ننشر على وسائل التواصل الاجتماعي؟", "social-media"),
]


def test_language_questions_are_not_copied_from_the_knowledge_base(kb: KnowledgeBase) -> None:
    curated = {
        normalize(text)
        for entry in kb.entries
        for content in entry.content.values()
        for text in (*content.questions, *content.keywords, content.title)
    }
    copied = [q for _, q, _ in OTHER_LANGUAGES if normalize(q) in curated]
    assert copied == []


def test_language_examples_cover_every_requested_language() -> None:
    langs = {lang for lang, _, _ in OTHER_LANGUAGES}
    assert langs >= {"fr", "en", "es", "de", "it", "pt", "nl", "tr", "ko", "ar"}


@pytest.mark.parametrize(("lang", "question", "topic"), OTHER_LANGUAGES)
def test_questions_in_each_language_find_their_entry(matcher: Matcher, lang: str, question: str, topic: str) -> None:
    result = matcher.match(question)
    if result.decision == "answer":
        assert result.topic == topic, (lang, result)
    else:
        # Languages with few curated questions may only get as far as "did you mean", topic first.
        assert result.decision == "clarify", (lang, result)
        assert result.suggestions[0] == topic, (lang, result)


@pytest.mark.parametrize(
    ("lang", "question"),
    [(lang, q) for lang, q, _ in OTHER_LANGUAGES if lang in {"fr", "en", "es", "de"}],
)
def test_detect_language(matcher: Matcher, lang: str, question: str) -> None:
    assert matcher.detect_language(question) == lang
    assert matcher.match(question).lang == lang


def test_detect_language_is_none_without_clues(matcher: Matcher) -> None:
    assert matcher.detect_language("") is None
    assert matcher.detect_language("🎉 ??? 123") is None


# ----------------------------------------------------------------------------- clarify


def test_question_between_step_3_and_step_4_asks_which(matcher: Matcher, kb: KnowledgeBase) -> None:
    result = matcher.match("réseaux sociaux ou page d'accueil ?")
    assert result.decision == "clarify", result
    assert {"social-media", "district-homepage"} <= set(result.suggestions)
    assert len(result.suggestions) <= 3
    assert result.topic == result.suggestions[0]
    steps = {kb.get(eid).step for eid in ("social-media", "district-homepage")}  # type: ignore[union-attr]
    assert steps == {3, 4}


def test_max_suggestions_comes_from_the_config(kb: KnowledgeBase) -> None:
    result = Matcher(kb, MatchConfig(max_suggestions=1)).match("réseaux sociaux ou page d'accueil ?")
    assert len(result.suggestions) <= 1


# ----------------------------------------------------------------------------- thresholds


def _labelled() -> list[str]:
    data = yaml.safe_load((EVAL_DIR / "questions.yaml").read_text(encoding="utf-8"))
    return [q for topics in data.values() for topic, qs in topics.items() if topic != "none" for q in qs]


def test_answer_threshold_above_100_never_answers(kb: KnowledgeBase) -> None:
    overlap = dataclasses.replace(kb, model=None)  # HOC_MATCH_* set the word-overlap matcher
    questions = _labelled() + [q for _, q, _ in OTHER_LANGUAGES]
    answered = sum(Matcher(overlap).match(q).decision == "answer" for q in questions)
    assert answered > len(questions) // 2  # the default config does answer most of them
    strict = Matcher(overlap, MatchConfig(answer_threshold=101.0))
    decisions = {strict.match(q).decision for q in questions}
    assert "answer" not in decisions
    assert "clarify" in decisions


def test_clarify_threshold_above_100_only_falls_back(kb: KnowledgeBase) -> None:
    overlap = dataclasses.replace(kb, model=None)
    strict = Matcher(overlap, MatchConfig(answer_threshold=101.0, clarify_threshold=101.0))
    assert {strict.match(q).decision for q in _labelled()} == {"fallback"}


def test_model_answer_threshold_above_100_never_answers(matcher: Matcher, kb: KnowledgeBase) -> None:
    assert kb.model is not None
    questions = _labelled() + [q for _, q, _ in OTHER_LANGUAGES]
    answered = sum(matcher.match(q).decision == "answer" for q in questions)
    assert answered > 0.9 * len(questions)  # the default config answers nearly all of them
    strict = Matcher(kb, MatchConfig(model_answer=101.0, model_clarify=10.0))
    decisions = {strict.match(q).decision for q in questions}
    assert "answer" not in decisions
    assert "clarify" in decisions
    closed = Matcher(kb, MatchConfig(model_answer=101.0, model_clarify=101.0))
    assert {closed.match(q).decision for q in _labelled()} == {"fallback"}


def test_low_thresholds_answer_what_the_default_only_clarifies(kb: KnowledgeBase) -> None:
    question = "réseaux sociaux ou page d'accueil ?"
    loose = Matcher(dataclasses.replace(kb, model=None), MatchConfig(answer_threshold=40.0, margin=0.0))
    result = loose.match(question)
    assert result.decision == "answer"
    assert result.topic == "social-media"


# ----------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_gives_a_valid_match(matcher: Matcher, kb: KnowledgeBase, text: str) -> None:
    result = matcher.match(text)
    assert result.decision in {"answer", "clarify", "fallback"}
    assert 0.0 <= result.score <= 100.0
    assert len(result.suggestions) <= matcher.config.max_suggestions
    if result.decision == "answer":
        assert kb.get(result.topic or "") is not None
    elif result.decision == "clarify":
        assert result.suggestions
        assert result.topic == result.suggestions[0]
    else:
        assert result.topic is None
        assert result.suggestions == ()


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "écoles",
                "recruter",
                "réseaux",
                "sociaux",
                "<@U123>",
                "*plan*",
                "logistique",
                "学校",
                "المدارس",
                "학교를",
                "🎉",
                "step",
                "étape",
                "???",
            ]
        ),
        max_size=12,
    )
)
def test_mixed_vocabulary_gives_a_valid_match(matcher: Matcher, words: list[str]) -> None:
    result = matcher.match(" ".join(words))
    assert result.decision in {"answer", "clarify", "fallback"}
    assert 0.0 <= result.score <= 100.0
