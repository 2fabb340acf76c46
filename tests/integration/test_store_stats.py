"""Questions log and operator statistics, the same on every store."""

from __future__ import annotations

import datetime as dt

from bot.core.ports import Store, UserKey, UserState

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def test_stats_count_users_steps_questions_and_reminders(any_store: Store) -> None:
    alice = UserKey("slack", "T1", "UA")
    bob = UserKey("telegram", "", "42")
    any_store.save_user(UserState(alice, chat="D1", steps_done={1: T0, 2: T0}))
    any_store.save_user(UserState(bob, chat="42", steps_done={1: T0}))
    any_store.add_reminder(alice, "D1", 3, T0)
    for text in ("piscine municipale", "piscine municipale", "parking"):
        any_store.log_question("slack", "fallback", None, text, T0)
    any_store.log_question("telegram", "answer", "recruit-schools", None, T0)
    any_store.log_question("slack", "clarify", "overview", "a quoi sert l heure de code", T0)

    figures = any_store.stats(2)
    assert dict(figures.users_by_platform) == {"slack": 1, "telegram": 1}
    assert figures.steps_done[1] == 2
    assert figures.steps_done[2] == 1
    assert dict(figures.questions_by_decision) == {"fallback": 3, "answer": 1, "clarify": 1}
    assert list(figures.unanswered) == [("piscine municipale", 2), ("a quoi sert l heure de code", 1)]
    assert figures.reminders_by_status["pending"] == 1


def test_forgetting_a_user_keeps_anonymous_question_counts(any_store: Store) -> None:
    key = UserKey("slack", "T1", "UA")
    any_store.save_user(UserState(key, chat="D1"))
    any_store.log_question("slack", "fallback", None, "parking", T0)
    any_store.delete_user(key)
    figures = any_store.stats()
    assert dict(figures.users_by_platform) == {}
    assert figures.questions_by_decision["fallback"] == 1
