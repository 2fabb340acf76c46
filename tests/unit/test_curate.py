"""Adding curated examples: written by the kb build dumper, duplicates skipped, conflicts refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.classifier import OFF_TOPIC
from bot.knowledge import default_kb_dir
from bot.knowledge.curate import (
    ALREADY_PRESENT,
    EVALUATION,
    OTHER_LABEL,
    Addition,
    plan_additions,
    with_additions,
    write_additions,
)
from bot.knowledge.examples import read_examples


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(default_kb_dir(), copy, ignore=shutil.ignore_patterns("model.json", "sources"))
    return copy


def test_every_shipped_examples_file_is_written_back_unchanged() -> None:
    for path in sorted((default_kb_dir() / "examples").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert with_additions(text, path.stem, []) == text, path.name


def test_additions_append_only_their_lines(kb: Path) -> None:
    path = kb / "examples" / "fr.yaml"
    old = path.read_text(encoding="utf-8").splitlines()
    write_additions(
        kb,
        [
            Addition("fr", "logistics-plan", "faut-il des écouteurs pour chaque élève"),
            Addition("fr", OFF_TOPIC, "horaires: piscine # municipale"),
        ],
    )
    new = path.read_text(encoding="utf-8").splitlines()
    assert len(new) == len(old) + 2
    assert "  - faut-il des écouteurs pour chaque élève" in new
    assert "- 'horaires: piscine # municipale'" in new
    assert [line for line in new if line in set(old)] == old
    examples = read_examples(
        kb,
        [
            "overview",
            "signup",
            "recruit-schools",
            "logistics-plan",
            "social-media",
            "district-homepage",
            "district-event",
            "after-hour-of-code",
        ],
    )
    assert examples.problems == []
    labels = {(e.label, e.text) for e in examples.items if e.lang == "fr"}
    assert (OFF_TOPIC, "horaires: piscine # municipale") in labels


def test_a_language_without_a_file_gets_one(kb: Path) -> None:
    [path] = write_additions(kb, [Addition("ja", "signup", "登録はどこ")])
    assert path.name == "ja.yaml"
    examples = read_examples(kb, ["signup"])
    assert [(e.lang, e.label, e.text) for e in examples.items if e.lang == "ja"] == [("ja", "signup", "登録はどこ")]


def test_the_plan_skips_duplicates_and_refuses_other_labels_and_evaluation_questions(kb: Path) -> None:
    plan = plan_additions(
        kb,
        [
            Addition("fr", "overview", "C'est quoi l'Heure de Code ?"),  # an overview example, normalised
            Addition("fr", "signup", "c'est quoi l'heure de code"),
            Addition("fr", "logistics-plan", "faut-il des écouteurs"),
            Addition("fr", OFF_TOPIC, "faut il des ecouteurs ?"),  # the one just above, normalised
            Addition("fr", "logistics-plan", "une question d'évaluation"),
            Addition("en", "logistics-plan", "faut-il des écouteurs"),  # another language: no conflict
        ],
        evaluation={"fr": {"une question d evaluation"}},
    )
    verdicts = [(v.added, v.reason, v.other) for v in plan.verdicts]
    assert verdicts == [
        (False, ALREADY_PRESENT, "overview"),
        (False, OTHER_LABEL, "overview"),
        (True, "", ""),
        (False, OTHER_LABEL, "logistics-plan"),
        (False, EVALUATION, ""),
        (True, "", ""),
    ]
    assert [a.text for a in plan.added] == ["faut-il des écouteurs", "faut-il des écouteurs"]
