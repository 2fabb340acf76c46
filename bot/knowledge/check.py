"""Validation of a knowledge directory, including checks across entries (colliding sample questions)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from bot.core.text import normalize
from bot.knowledge.loader import Problem, QuestionRef, validate_kb

#: Two sample questions of different entries this similar (rapidfuzz ratio, normalised) collide.
NEAR_DUPLICATE = 95.0


def check_kb(kb_dir: Path) -> list[str]:
    """Every problem of a knowledge directory, as ``file:line: entry <id>: <field>: message``.

    Reports YAML syntax errors, schema errors (unknown or missing field, wrong type), duplicate
    ids, missing French or English answers, link keys not in ``links.yaml``, URLs that are not
    http(s), and sample questions of two entries that are near-duplicates in the same language.

    Args:
        kb_dir: Directory with ``links.yaml`` and ``entries/*.yaml``.

    Returns:
        The problems, sorted by file and line; empty when the knowledge base is valid.
    """
    result = validate_kb(kb_dir)
    problems = list(result.problems) + near_duplicates(result.questions)
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
