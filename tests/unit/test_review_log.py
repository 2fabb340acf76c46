"""What the handler and the observer put in the questions log for review, through the real handler."""

from __future__ import annotations

from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness


def test_an_unanswered_question_is_logged_with_language_guesses_and_its_text_as_typed() -> None:
    store = MemoryStore()
    h = Harness(store=store)
    h.send("Faut-il des *écouteurs* pour chaque élève ?", lang="fr")
    [row] = store.questions_to_review()
    assert row.decision == "fallback"
    assert row.lang == "fr"
    assert row.text == "faut il des ecouteurs pour chaque eleve"
    assert row.original == "Faut-il des écouteurs pour chaque élève ?"
    assert 1 <= len(row.guesses) <= 3
    assert row.guesses[0][0] == "none"
    assert row.guesses == tuple(sorted(row.guesses, key=lambda g: -g[1]))
    assert row.choice is None


def test_answered_questions_keep_no_text_and_are_not_in_the_queue() -> None:
    store = MemoryStore()
    h = Harness(store=store)
    [reply] = h.send("comment recruter des écoles ?", lang="fr")[-1:]
    assert reply.kind == "answer"
    assert store.questions_to_review() == []
    assert store.stats().questions_by_decision == {"answer": 1}


def test_the_did_you_mean_choice_clicked_is_recorded_without_a_user_id() -> None:
    store = MemoryStore()
    h = Harness(store=store)
    clarify = h.send("réseaux sociaux ou page d'accueil ?", user="u1", lang="fr")[-1]
    assert clarify.kind == "clarify"
    pressed = clarify.buttons[1]
    [answer] = h.press(pressed.id, user="u1", lang="fr")
    assert answer.kind == "answer"
    assert answer.topic == pressed.id.split(":")[1]
    [row] = store.questions_to_review()
    assert row.decision == "clarify"
    assert row.choice == answer.topic
    assert "u1" not in repr(row)


def test_an_old_topic_button_still_answers_and_records_nothing() -> None:
    store = MemoryStore()
    h = Harness(store=store)
    h.send("réseaux sociaux ou page d'accueil ?", user="u1", lang="fr")
    [answer] = h.press("topic:signup", user="u1", lang="fr")
    assert (answer.kind, answer.topic) == ("answer", "signup")
    assert [q.choice for q in store.questions_to_review()] == [None]
