"""The review of the questions log end to end: questions asked through the real handler, grouped,
assigned or marked off-topic, applied (real retraining in a subprocess, on a copy of the shipped
knowledge base), then asked again.

The questions are written for these tests (none comes from tests/fixtures/eval); the shipped
knowledge/ is never written: every test works on a copy in tmp_path.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from bot.admin.review import Review, ReviewError
from bot.admin.review_apply import _Lock
from bot.admin.review_eval import eval_dir
from bot.core.classifier import MODEL_FILE
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness

#: (language, entry, two wordings of one question the shipped model falls back on).
ASSIGNED = [
    ("en", "logistics-plan", "do the kids need headphones", "do the kids need headphone"),
    ("fr", "logistics-plan", "faut-il des écouteurs pour chaque élève", "faut-il des écouteur pour chaque élève"),
    ("es", "logistics-plan", "los alumnos necesitan auriculares", "los alumnos necesitan auricular"),
    ("de", "logistics-plan", "brauchen die Kinder Kopfhörer", "brauchen die Kinder Kopfhöhrer"),
    ("it", "logistics-plan", "servono le cuffie per gli studenti", "servono cuffie per gli studenti"),
    ("pt", "logistics-plan", "os alunos precisam de fones de ouvido", "os alunos precisam de fone de ouvido"),
    ("nl", "logistics-plan", "hebben de leerlingen koptelefoons nodig", "hebben de leerlingen een koptelefoon nodig"),
    ("en", "logistics-plan", "can we do it unplugged without computers", "can we do it unplugged without computer"),
    ("fr", "logistics-plan", "on peut faire l'activité sans ordinateur ?", "on peut faire l'activite sans ordinateurs"),
    ("fr", "after-hour-of-code", "comment remercier les bénévoles après", "comment remercier les benevole apres"),
]
#: An off-topic question that asks for two things: "did you mean" offers two steps.
OFF_TOPIC = ("en", "a homepage banner and a facebook post about the chess club")


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge directory."""
    copy = tmp_path / "knowledge"
    shutil.copytree(default_kb_dir(), copy)
    return copy


class Bot:
    """The handler on a knowledge copy, its questions log, and the review over both."""

    def __init__(self, kb_dir: Path) -> None:
        self.store = MemoryStore()
        self.harness = Harness({"HOC_KNOWLEDGE_DIR": str(kb_dir)}, store=self.store)
        self.kb_dir = kb_dir
        self.reloads = 0
        self.review = Review(self.store, kb_dir, eval_dir=eval_dir({}), reload=self.reload)

    def reload(self) -> list[str]:
        self.reloads += 1
        self.harness.handler.reload(load_kb(self.kb_dir))
        return []

    def ask(self, text: str, lang: str, user: str = "asker") -> str:
        reply = self.harness.send(text, user=f"{user}-{lang}", lang=lang)[-1]
        return reply.topic if reply.kind == "answer" and reply.topic else reply.kind


@pytest.fixture
def bot(kb_copy: Path) -> Bot:
    return Bot(kb_copy)


@pytest.mark.slow
def test_ten_groups_assigned_are_answered_after_one_apply(bot: Bot, tmp_path: Path) -> None:
    pristine = {p.name: p.read_bytes() for p in (bot.kb_dir / "examples").glob("*.yaml")}
    for lang, _, first, second in ASSIGNED:
        assert bot.ask(first, lang) == "fallback", first
        assert bot.ask(second, lang, user="other") == "fallback", second
    # A "did you mean", its choice clicked: an implicit label.
    lang, question = OFF_TOPIC
    clarify = bot.harness.send(question, user="clicker", lang=lang)[-1]
    assert clarify.kind == "clarify"
    bot.harness.press(clarify.buttons[0].id, user="clicker", lang=lang)

    groups = bot.review.groups()
    by_text = {g.text: g for g in groups}
    assert len(groups) == 11
    for lang, _, first, second in ASSIGNED:
        group = next(g for g in groups if first in {t.text for t in g.texts})
        assert (group.lang, group.count) == (lang, 2)
        assert {t.text for t in group.texts} == {first, second}
        assert group.guesses[0][0] == "none"
    clicked = by_text[question]
    assert clicked.decisions == {"clarify": 1}
    assert clicked.implicit_label == clarify.buttons[0].id.split(":")[1]

    change = bot.review.merge(
        *(
            bot.review.assign([next(g.key for g in groups if first in {t.text for t in g.texts})], entry)
            for _, entry, first, _ in ASSIGNED
        )
    )
    assert change.summary() == {"added": 20, "skipped": 0, "refused": 0}
    outcome = bot.review.apply(change)

    assert outcome.status == "applied", (outcome.message, outcome.problems)
    assert bot.reloads == 1
    assert outcome.reviewed == 20
    for lang, entry, first, second in ASSIGNED:
        assert bot.ask(first, lang, user="later") == entry, first
        assert bot.ask(second, lang, user="later2") == entry, second
    assert [g.text for g in bot.review.groups()] == [question]
    # Before/after accuracy on the team's evaluation sets, every language.
    assert set(outcome.eval_before) == set(outcome.eval_after) >= {"fr", "en", "es", "de", "it", "pt", "nl"}
    assert all(f.total > 0 for f in outcome.eval_after.values())
    # The diff names each added question, and applies with `git apply` to a pristine copy.
    added = [line for line in outcome.diff.splitlines() if line.startswith("+  - ")]
    assert sorted(added) == sorted(f"+  - {text}" for _, _, first, second in ASSIGNED for text in (first, second))
    langs = sorted({lang for lang, *_ in ASSIGNED})
    assert sorted(outcome.files) == sorted([*(f"examples/{lang}.yaml" for lang in langs), MODEL_FILE])
    repo = tmp_path / "pristine"
    (repo / "knowledge" / "examples").mkdir(parents=True)
    for name, content in pristine.items():
        (repo / "knowledge" / "examples" / name).write_bytes(content)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (tmp_path / "review.patch").write_text(outcome.diff, encoding="utf-8")
    subprocess.run(["git", "apply", str(tmp_path / "review.patch")], cwd=repo, check=True)
    for path in (bot.kb_dir / "examples").glob("*.yaml"):
        assert (repo / "knowledge" / "examples" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow
def test_a_group_marked_off_topic_then_falls_back(bot: Bot) -> None:
    lang, question = OFF_TOPIC
    assert bot.ask(question, lang) == "clarify"
    [group] = bot.review.groups()
    outcome = bot.review.apply(bot.review.mark_off_topic([group.key]))
    assert outcome.status == "applied", (outcome.message, outcome.problems)
    assert bot.review.groups() == []
    offtopic = (bot.kb_dir / "examples" / "en.yaml").read_text(encoding="utf-8").split("\nofftopic:\n")[1]
    assert f"- {question}\n" in offtopic
    assert bot.ask(question, lang, user="later") == "fallback"


def _snapshot(kb_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(kb_dir)): p.read_bytes() for p in sorted(kb_dir.rglob("*")) if p.is_file()}


def test_an_apply_that_kb_check_refuses_writes_nothing(bot: Bot) -> None:
    lang, _, first, _ = ASSIGNED[0]
    bot.ask(first, lang)
    [group] = bot.review.groups()
    change = bot.review.assign([group.key], "logistics-plan")
    # Someone broke an entry file by hand meanwhile: the result would not pass kb check.
    entry = bot.kb_dir / "entries" / "signup.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    before = _snapshot(bot.kb_dir)
    outcome = bot.review.apply(change)
    assert outcome.status == "invalid"
    assert any("signup.yaml" in p for p in outcome.problems)
    assert _snapshot(bot.kb_dir) == before
    assert bot.reloads == 0
    assert [g.key for g in bot.review.groups()] == [group.key]


def test_a_failed_retraining_writes_nothing(bot: Bot, tmp_path: Path) -> None:
    lang, _, first, _ = ASSIGNED[0]
    bot.ask(first, lang)
    [group] = bot.review.groups()
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no scikit-learn here' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    review = Review(bot.store, bot.kb_dir, eval_dir=None, reload=bot.reload, python=str(broken))
    before = _snapshot(bot.kb_dir)
    outcome = review.apply(review.assign([group.key], "logistics-plan"))
    assert outcome.status == "failed"
    assert outcome.problems == ["no scikit-learn here"]
    assert _snapshot(bot.kb_dir) == before
    assert bot.reloads == 0


def test_a_second_apply_at_the_same_time_is_refused(bot: Bot) -> None:
    lang, _, first, _ = ASSIGNED[0]
    bot.ask(first, lang)
    [group] = bot.review.groups()
    change = bot.review.assign([group.key], "logistics-plan")
    before = _snapshot(bot.kb_dir)
    # Another process (the terminal, the console) holds the lock of this knowledge directory.
    with _Lock(bot.kb_dir):
        job = bot.review.start_apply(change)
        outcome = bot.review.wait(job, timeout=60)
    assert outcome is not None
    assert outcome.status == "busy"
    assert "another review" in outcome.message
    assert _snapshot(bot.kb_dir) == before
    assert bot.review.status(job) is not None
    assert bot.review.status(job).state == "done"  # type: ignore[union-attr]


def test_questions_already_taught_are_skipped_and_another_entrys_are_refused(bot: Bot) -> None:
    known = "c'est quoi l'heure de code"  # an example of overview in knowledge/examples/fr.yaml
    bot.store.log_question("console", "fallback", None, "c est quoi l heure de code", _now(), lang="fr", original=known)
    [group] = bot.review.groups()
    assert bot.review.assign([group.key], "overview").summary() == {"added": 0, "skipped": 1, "refused": 0}
    refused = bot.review.assign([group.key], "signup")
    assert refused.summary() == {"added": 0, "skipped": 0, "refused": 1}
    assert refused.plan.refused[0].other == "overview"
    before = _snapshot(bot.kb_dir)
    outcome = bot.review.apply(bot.review.assign([group.key], "overview"))
    assert outcome.status == "nothing"
    assert outcome.reviewed == 1
    assert _snapshot(bot.kb_dir) == before
    assert bot.review.groups() == []


def test_evaluation_questions_are_never_added(bot: Bot) -> None:
    folder = eval_dir({})
    assert folder is not None
    text = (folder / "blind" / "fr.yaml").read_text(encoding="utf-8").splitlines()[3].strip()[2:]
    bot.store.log_question("console", "fallback", None, text.lower(), _now(), lang="fr", original=text)
    [group] = bot.review.groups()
    change = bot.review.assign([group.key], "logistics-plan")
    assert change.summary() == {"added": 0, "skipped": 0, "refused": 1}
    assert change.plan.refused[0].reason == "an evaluation question"


def test_unknown_groups_and_entries_are_errors(bot: Bot) -> None:
    with pytest.raises(ReviewError, match="no group"):
        bot.review.assign(["nope"], "signup")
    bot.ask(ASSIGNED[0][2], "en")
    [group] = bot.review.groups()
    with pytest.raises(ReviewError, match="no entry"):
        bot.review.assign([group.key], "no-such-entry")


def test_skipped_groups_leave_the_queue_without_changing_files(bot: Bot) -> None:
    bot.ask(ASSIGNED[0][2], "en")
    before = _snapshot(bot.kb_dir)
    [group] = bot.review.groups()
    assert bot.review.skip([group.key]) == 1
    assert bot.review.groups() == []
    assert _snapshot(bot.kb_dir) == before


def test_background_jobs_report_their_stage(bot: Bot) -> None:
    started = threading.Event()
    release = threading.Event()
    stages: list[str] = []

    def slow_reload() -> list[str]:
        started.set()
        release.wait(30)
        return []

    bot.ask(ASSIGNED[0][2], "en")
    [group] = bot.review.groups()
    review = Review(bot.store, bot.kb_dir, eval_dir=None, reload=slow_reload)
    job = review.start_apply(review.assign([group.key], "logistics-plan"))
    assert started.wait(120)
    status = review.status(job)
    assert status is not None
    stages.append(status.stage)
    assert (status.state, status.stage) == ("running", "reloading")
    release.set()
    outcome = review.wait(job, timeout=60)
    assert outcome is not None
    assert outcome.status == "applied"


def _now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
