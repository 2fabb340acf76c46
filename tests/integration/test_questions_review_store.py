"""The questions log as a review reads it, the same on every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from bot.core.ports import REVIEWED_OFF_TOPIC, Store

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_review_fields_are_kept_and_read_back(any_store: Store) -> None:
    any_store.log_question(
        "slack",
        "clarify",
        "social-media",
        "facebook ou site",
        _at(0),
        lang="fr",
        guesses=[("social-media", 38.25), ("district-homepage", 35.0), ("none", 20.0), ("overview", 1.0)],
        original="Facebook ou *site* ?",
        ref="0123456789abcdef",
    )
    [row] = any_store.questions_to_review()
    assert (row.platform, row.decision, row.topic, row.text) == ("slack", "clarify", "social-media", "facebook ou site")
    assert (row.original, row.lang, row.choice) == ("Facebook ou *site* ?", "fr", None)
    assert row.guesses == (("social-media", 38.2), ("district-homepage", 35.0), ("none", 20.0))
    assert row.asked_at == T0


def test_the_choice_clicked_is_recorded_against_the_question_of_its_reference(any_store: Store) -> None:
    any_store.log_question("telegram", "clarify", "signup", "inscription", _at(0), lang="fr", ref="aaaa")
    any_store.log_question("telegram", "clarify", "signup", "inscription", _at(1), lang="fr", ref="bbbb")
    assert any_store.record_choice("bbbb", "signup") is True
    assert any_store.record_choice("cccc", "signup") is False
    assert [q.choice for q in any_store.questions_to_review()] == [None, "signup"]


def test_the_queue_holds_unreviewed_unanswered_questions_and_filters(any_store: Store) -> None:
    any_store.log_question("slack", "answer", "signup", None, _at(0), lang="fr")
    any_store.log_question("slack", "fallback", None, "piscine", _at(1), lang="fr")
    any_store.log_question("telegram", "fallback", None, "pool", _at(2), lang="en")
    any_store.log_question("slack", "clarify", "overview", "guide", _at(3), lang="en")
    assert [q.text for q in any_store.questions_to_review()] == ["piscine", "pool", "guide"]
    assert [q.text for q in any_store.questions_to_review(lang="en")] == ["pool", "guide"]
    assert [q.text for q in any_store.questions_to_review(platform="slack")] == ["piscine", "guide"]
    assert [q.text for q in any_store.questions_to_review(decisions=("clarify",))] == ["guide"]
    assert [q.text for q in any_store.questions_to_review(since=_at(2))] == ["pool", "guide"]
    assert [q.text for q in any_store.questions_to_review(limit=1)] == ["piscine"]


def test_reviewed_questions_leave_the_queue_once(any_store: Store) -> None:
    for n, text in enumerate(("piscine", "cantine", "parking")):
        any_store.log_question("slack", "fallback", None, text, _at(n), lang="fr")
    ids = [q.id for q in any_store.questions_to_review()]
    assert any_store.mark_reviewed(ids[:2], REVIEWED_OFF_TOPIC, _at(10)) == 2
    assert any_store.mark_reviewed(ids[:2], "signup", _at(11)) == 0
    assert [q.text for q in any_store.questions_to_review()] == ["parking"]
    # Statistics still count every question, reviewed or not.
    assert any_store.stats().questions_by_decision["fallback"] == 3


def test_the_retention_purge_deletes_reviewed_and_unreviewed_alike(any_store: Store) -> None:
    any_store.log_question("slack", "fallback", None, "old", _at(0), lang="fr", ref="r1")
    any_store.log_question("slack", "fallback", None, "new", _at(60), lang="fr")
    [old, _] = any_store.questions_to_review()
    any_store.mark_reviewed([old.id], "skipped", _at(61))
    assert any_store.purge_questions(_at(30)) == 1
    assert [q.text for q in any_store.questions_to_review()] == ["new"]
    assert any_store.record_choice("r1", "signup") is False
