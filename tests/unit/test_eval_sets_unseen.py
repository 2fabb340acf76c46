"""The evaluation sets stay unseen: none of their questions is a text the matcher learns from."""

from __future__ import annotations

from bench.accuracy import EVAL, load_set
from bot.core.text import normalize
from bot.knowledge import default_kb_dir
from bot.knowledge.examples import read_examples
from bot.knowledge.loader import load_kb


def _evaluation_questions() -> dict[str, str]:
    """Every evaluation question, normalised, with the set it comes from."""
    found: dict[str, str] = {}
    for path in sorted(EVAL.iterdir()):
        for topics in load_set(path).values():
            for items in topics.values():
                found.update((normalize(q), f"{path.name}: {q}") for q in items)
    return found


def test_no_evaluation_question_is_a_curated_example_sample_question_or_keyword() -> None:
    kb_dir = default_kb_dir()
    kb = load_kb(kb_dir)
    learnt = [e.text for e in read_examples(kb_dir, [e.id for e in kb.entries]).items]
    for entry in kb.entries:
        for content in entry.content.values():
            learnt += [*content.questions, *content.keywords]  # a title may be typed as a question
    questions = _evaluation_questions()
    assert len(questions) > 5000  # every set was read
    copies = sorted({questions[n] for text in learnt if (n := normalize(text)) in questions})
    assert not copies, f"{len(copies)} evaluation questions are also curated texts: {copies[:5]}"
