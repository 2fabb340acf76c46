"""Curated examples, ``kb train`` and the checks that keep the shipped model in step with them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.core.classifier import MODEL_FILE, OFF_TOPIC
from bot.core.errors import KnowledgeError
from bot.core.knowledge import ENTRY_IDS
from bot.knowledge.commands import check_command
from bot.knowledge.examples import read_examples
from bot.knowledge.loader import load_kb
from bot.knowledge.train import train_command, training_problems

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kb"
SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"
IDS = ENTRY_IDS

EXAMPLES = """\
lang: en
entries:
  recruit-schools:
    - how do I convince the schools
    - email for principals
  social-media:
    - what do we post on facebook
    - a tweet about our district
offtopic:
  - weather tomorrow
  - canteen menu
"""


def _kb(tmp_path: Path, examples: str | None = EXAMPLES, name: str = "en.yaml") -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "base", kb)
    if examples is not None:
        (kb / "examples").mkdir()
        (kb / "examples" / name).write_text(examples, encoding="utf-8")
    return kb


def _problems(kb: Path, text: str, name: str = "en.yaml") -> list[str]:
    (kb / "examples" / name).write_text(text, encoding="utf-8")
    return [p.replace(f"{kb}/", "") for p in read_examples(kb, IDS).problems]


def test_examples_are_read_with_their_label_language_and_line(tmp_path: Path) -> None:
    examples = read_examples(_kb(tmp_path), IDS)
    assert examples.problems == []
    first = examples.items[0]
    assert (first.lang, first.label, first.text, first.line) == (
        "en",
        "recruit-schools",
        "how do I convince the schools",
        4,
    )
    assert [e.label for e in examples.items].count(OFF_TOPIC) == 2


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("lang: fr\nentries: {}\n", "en.yaml", "examples/en.yaml:1: lang: 'fr' but the file is named en.yaml"),
        ("lang: english\n", "en.yaml", "examples/en.yaml:1: lang: expected a language code such as 'en'"),
        (
            "lang: en\nentries:\n  nowhere:\n    - a b\n",
            "en.yaml",
            "examples/en.yaml:3: entries: unknown entry 'nowhere'",
        ),
        (
            "lang: en\nentries:\n  signup:\n    - sign up\n    - Sign up!\n",
            "en.yaml",
            "examples/en.yaml:5: entries.signup: duplicate question 'Sign up!'",
        ),
        (
            "lang: en\nentries:\n  signup: sign up\n",
            "en.yaml",
            "examples/en.yaml:3: entries.signup: expected a list of questions",
        ),
        ("lang: en\nofftopic:\n  - 12\n", "en.yaml", "examples/en.yaml:3: offtopic: expected a question as text"),
        ("lang: en\nextra: 1\n", "en.yaml", "examples/en.yaml:2: unknown field 'extra'"),
        ("lang: [en\n", "en.yaml", "examples/en.yaml:2: not valid YAML"),
        ("- a\n", "en.yaml", "examples/en.yaml:1: expected a mapping with lang, entries and offtopic"),
    ],
)
def test_each_kind_of_example_problem_is_reported(tmp_path: Path, text: str, name: str, expected: str) -> None:
    kb = _kb(tmp_path)
    problems = _problems(kb, text, name)
    assert any(p.startswith(expected) for p in problems), problems


def test_one_question_under_two_labels_is_a_problem(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    problems = _problems(kb, "lang: en\nentries:\n  signup:\n    - our website\nofftopic:\n  - Our website?\n")
    assert problems == [
        "examples/en.yaml:6: none: 'Our website?' is also an example of signup (examples/en.yaml:4): "
        "one question, two answers"
    ]


def test_train_writes_a_model_the_loader_attaches(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert train_command(kb_dir, stdout=out, stderr=err) == 0, err.getvalue()
    assert "9 classes" in out.getvalue()
    kb = load_kb(kb_dir)
    assert kb.model is not None
    assert set(kb.model.classes) == {*IDS, OFF_TOPIC}
    assert training_problems(kb_dir) == []


def test_train_writes_nothing_when_an_example_is_wrong(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path, "lang: fr\n")
    out, err = io.StringIO(), io.StringIO()
    assert train_command(kb_dir, stdout=out, stderr=err) == 1
    assert "lang: 'fr' but the file is named en.yaml" in err.getvalue()
    assert "nothing written" in err.getvalue()
    assert not (kb_dir / MODEL_FILE).exists()


def test_check_reports_a_missing_or_stale_model(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path)
    assert training_problems(kb_dir) == [f"{kb_dir}/{MODEL_FILE}:1: no model: run `hoc-bot kb train`"]
    assert train_command(kb_dir, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    with (kb_dir / "examples" / "en.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - school holidays\n")
    stale = training_problems(kb_dir)
    assert len(stale) == 1
    assert "changed since the model was trained" in stale[0]
    out = io.StringIO()
    assert check_command(kb_dir, stdout=out, stderr=io.StringIO()) == 1
    assert "run `hoc-bot kb train`" in out.getvalue()


def test_a_knowledge_base_without_examples_or_model_needs_none(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path, None)
    assert training_problems(kb_dir) == []
    assert load_kb(kb_dir).model is None


def test_a_model_for_other_entries_is_refused_at_load(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path)
    assert train_command(kb_dir, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    (kb_dir / "entries" / "signup.yaml").unlink()
    with pytest.raises(KnowledgeError):
        load_kb(kb_dir)


def test_a_corrupt_model_is_a_check_problem(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path)
    (kb_dir / MODEL_FILE).write_text("{", encoding="utf-8")
    problems = training_problems(kb_dir)
    assert len(problems) == 1
    assert "not valid JSON" in problems[0]
    with pytest.raises(KnowledgeError, match="not valid JSON"):
        load_kb(kb_dir)


def test_kb_train_command_line(tmp_path: Path) -> None:
    kb_dir = _kb(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert cli_main(["kb", "train", "--dir", str(kb_dir)], stdout=out, stderr=err) == 0, err.getvalue()
    assert (kb_dir / MODEL_FILE).is_file()


def test_the_shipped_model_is_trained_on_todays_examples() -> None:
    assert (SHIPPED / MODEL_FILE).is_file()
    assert training_problems(SHIPPED) == []
    model = load_kb(SHIPPED).model
    assert model is not None
    assert set(model.classes) == {*IDS, OFF_TOPIC}
