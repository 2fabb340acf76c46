"""The shipped knowledge base shows no English (or other foreign) text in a non-English answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.knowledge import Content, Entry, KnowledgeBase
from bot.core.text import fold
from bot.knowledge.check import SAME_IN_EVERY_LANGUAGE, SAME_IN_LANGUAGE, untranslated
from bot.knowledge.loader import load_kb, validate_kb

SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"
LANGS = ("ar", "de", "es", "fr", "it", "ko", "nl", "pt", "tr")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(SHIPPED)


def _names(lang: str) -> set[str]:
    return {fold(name) for name in (*SAME_IN_EVERY_LANGUAGE, *SAME_IN_LANGUAGE.get(lang, ()))}


def _target(link: object) -> str | None:
    return getattr(link, "key", None) or getattr(link, "url", None)


def _shown(content: Content) -> list[str]:
    return [content.title, content.answer, *(link.label for link in content.links)]


def test_the_kb_has_every_language() -> None:
    assert set(LANGS) | {"en"} == set(load_kb(SHIPPED).languages)


@pytest.mark.parametrize("lang", LANGS)
def test_no_title_or_link_label_is_the_english_one(kb: KnowledgeBase, lang: str) -> None:
    names = _names(lang)
    for entry in kb.entries:
        english, mine = entry.content["en"], entry.content[lang]
        assert fold(mine.title) != fold(english.title), (entry.id, lang, mine.title)
        english_labels = {_target(link): fold(link.label) for link in english.links}
        for link in mine.links:
            label = fold(link.label)
            if label in names:
                continue  # Facebook, Twitter, … (and German "Hour of Code")
            assert label != english_labels.get(_target(link)), (entry.id, lang, link)
            assert label not in english_labels.values(), (entry.id, lang, link)


@pytest.mark.parametrize("lang", LANGS)
def test_no_answer_has_a_sentence_of_the_english_answer(kb: KnowledgeBase, lang: str) -> None:
    for entry in kb.entries:
        english = {fold(s) for s in re.split(r"(?<=[.!?:])\s+|\n", entry.content["en"].answer)}
        for sentence in re.split(r"(?<=[.!?:。؟])\s+|\n", entry.content[lang].answer):
            folded = fold(sentence)
            if len(folded.split()) >= 3:
                assert folded not in english, (entry.id, lang, sentence)


def test_the_check_finds_nothing_left_untranslated_in_the_shipped_kb() -> None:
    validation = validate_kb(SHIPPED)
    assert validation.shown  # every title, answer and label, with its file and line
    assert untranslated(validation.shown) == []


def test_the_titles_the_guide_left_in_english_are_translated(kb: KnowledgeBase) -> None:
    def title(entry_id: str, lang: str) -> str:
        entry = kb.get(entry_id)
        assert entry is not None
        return entry.content[lang].title

    assert title("social-media", "es") == "Comparte en las redes sociales"
    assert title("district-event", "pt") == "Realize um evento da Hora do Código no seu distrito"
    for entry_id in ("recruit-schools", "logistics-plan", "social-media", "district-homepage", "district-event"):
        for lang in ("it", "pt", "nl"):
            assert "the" not in fold(title(entry_id, lang)).split(), (entry_id, lang)


# --------------------------------------------------------------------------- French wording


def _french(kb: KnowledgeBase) -> list[tuple[Entry, str]]:
    return [(entry, text) for entry in kb.entries for text in _shown(entry.content["fr"])]


@pytest.mark.parametrize(
    "wrong",
    [
        r"\bun brève\b",  # une brève note
        r"\bl' ",  # l'événement, no space
        r"[ée]tudiant",  # élève(s), for pupils
        r"\bspectacle\b",  # a run of show is a déroulé type de l'événement
        r"Hour of Code",  # l'Heure de Code
        r"événement Heure de Code",  # événement de l'Heure de Code
        r"\bde Heure de Code",
        r"\bà Heure de Code",
    ],
)
def test_french_wording(kb: KnowledgeBase, wrong: str) -> None:
    for entry, text in _french(kb):
        assert not re.search(wrong, text), (entry.id, text)


def test_french_fixes_are_in_the_answers(kb: KnowledgeBase) -> None:
    texts = " ".join(text for _, text in _french(kb))
    for right in (
        "une brève note",
        "déroulé type de l'événement",
        "chaque élève",
        "le site de l'Heure de Code",
        "un événement de l'Heure de Code",
    ):
        assert right in texts, right
