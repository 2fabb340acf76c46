"""Validation of a knowledge directory, including checks across entries (colliding sample questions)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from rapidfuzz import fuzz

from bot.core.text import fold, normalize
from bot.knowledge.loader import Problem, QuestionRef, ShownText, validate_kb

#: Two sample questions of different entries this similar (rapidfuzz ratio, normalised) collide.
NEAR_DUPLICATE = 95.0

#: Names that every language writes the same way: a title or label made of these alone is not
#: left untranslated.
SAME_IN_EVERY_LANGUAGE: tuple[str, ...] = (
    "Facebook",
    "Twitter",
    "X",
    "Instagram",
    "Code.org",
    "hourofcode.com",
    "#HourOfCode",
    "@codeorg",
)
#: Names that a language keeps in English because its national Hour of Code site does (German
#: writes "die Hour of Code"); French says "l'Heure de Code", Spanish "la Hora del Código" …
SAME_IN_LANGUAGE: Mapping[str, tuple[str, ...]] = {"de": ("Hour of Code",)}
#: A sentence of an answer shorter than this (in words) is not compared across languages.
MIN_SENTENCE_WORDS = 3
_SENTENCE = re.compile(r"(?<=[.!?;:。！？؟])\s+|\n")


def check_kb(kb_dir: Path) -> list[str]:
    """Every problem of a knowledge directory, as ``file:line: entry <id>: <field>: message``.

    Reports YAML syntax errors, schema errors (unknown or missing field, wrong type), duplicate
    ids, missing French or English answers, link keys not in ``links.yaml``, URLs that are not
    http(s), sample questions of two entries that are near-duplicates in the same language, and
    titles, link labels and answer sentences of a language other than English that show another
    language's text (see ``untranslated``).

    Args:
        kb_dir: Directory with ``links.yaml`` and ``entries/*.yaml``.

    Returns:
        The problems, sorted by file and line; empty when the knowledge base is valid.
    """
    result = validate_kb(kb_dir)
    problems = list(result.problems) + near_duplicates(result.questions) + untranslated(result.shown)
    problems.sort(key=lambda p: (p.file, p.line, str(p)))
    return [str(p) for p in problems]


def near_duplicates(questions: list[QuestionRef], threshold: float = NEAR_DUPLICATE) -> list[Problem]:
    """Pairs of sample questions of different entries, same language, that the matcher cannot tell apart."""
    by_lang: dict[str, list[tuple[QuestionRef, str]]] = defaultdict(list)
    for question in questions:
        by_lang[question.lang].append((question, normalize(question.text)))
    problems: list[Problem] = []
    for items in by_lang.values():
        for i, (first, first_norm) in enumerate(items):
            for second, second_norm in items[i + 1 :]:
                if first.entry == second.entry or not first_norm or not second_norm:
                    continue
                score = fuzz.ratio(first_norm, second_norm)
                if score >= threshold:
                    problems.append(
                        Problem(
                            second.file,
                            second.line,
                            second.entry,
                            second.field,
                            f'near-duplicate of "{first.text}" in entry {first.entry} '
                            f"({first.file}:{first.line}, similarity {score:.0f}): they collide in matching",
                        )
                    )
    return problems


def _is_english(lang: str) -> bool:
    return lang.replace("_", "-").split("-")[0].lower() == "en"


def _only_names(folded: str, lang: str) -> bool:
    """True when ``folded`` is nothing but names that ``lang`` writes as other languages do."""
    base = lang.replace("_", "-").split("-")[0].lower()
    names = sorted((fold(n) for n in (*SAME_IN_EVERY_LANGUAGE, *SAME_IN_LANGUAGE.get(base, ()))), key=len, reverse=True)
    rest = f" {folded} "
    for name in names:
        rest = rest.replace(f" {name} ", " ")
        rest = rest.replace(f" {name} ", " ")
    return not rest.strip()


def _units(text: ShownText) -> list[tuple[str, bool]]:
    """(folded text, is a sentence of an answer) to compare: the whole text, and an answer's sentences."""
    whole = fold(text.text)
    units = [(whole, False)]
    if text.key == "answer":
        for sentence in _SENTENCE.split(text.text):
            folded = fold(sentence)
            if folded and folded != whole and len(folded.split()) >= MIN_SENTENCE_WORDS:
                units.append((folded, True))
    return units


def untranslated(shown: list[ShownText]) -> list[Problem]:
    """Texts of a language other than English that another language of the entry shows too.

    A title, link label or answer (the curated version when there is one), or a sentence of an
    answer of at least ``MIN_SENTENCE_WORDS`` words, whose normalised text is another language's
    (English, almost always) was left untranslated; names in ``SAME_IN_EVERY_LANGUAGE`` and
    ``SAME_IN_LANGUAGE`` alone are not. Fix it with ``title_fixed``, ``labels_fixed`` or
    ``answer_fixed``, which ``kb build`` keeps.
    """
    by_entry: dict[str, list[ShownText]] = defaultdict(list)
    for text in shown:
        by_entry[text.entry].append(text)
    problems: list[Problem] = []
    for texts in by_entry.values():
        seen: dict[str, list[ShownText]] = defaultdict(list)
        for text in texts:
            for folded, _ in _units(text):
                if text not in seen[folded]:
                    seen[folded].append(text)
        for text in texts:
            if _is_english(text.lang):
                continue
            for folded, sentence in _units(text):
                others = [o for o in seen[folded] if o.lang != text.lang]
                if not folded or not others or _only_names(folded, text.lang):
                    continue
                # English first: it is the language left untranslated text almost always is.
                other = min(others, key=lambda o: (not _is_english(o.lang), o.lang))
                fix = {"title": "title_fixed", "answer": "answer_fixed"}.get(text.key, "labels_fixed")
                what = "a sentence of the answer" if sentence else "the text"
                problems.append(
                    Problem(
                        text.file,
                        text.line,
                        text.entry,
                        text.field,
                        f'{what} is the {other.lang} text of {other.field} ("{_short(folded)}"): '
                        f"left untranslated? translate it in {fix}",
                    )
                )
                break
    return problems


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
