"""Grouping the review queue: near-duplicates of one language together, stable keys."""

from __future__ import annotations

import datetime as dt

from bot.admin.review_groups import group_questions
from bot.core.ports import LoggedQuestion

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _q(n: int, text: str, lang: str = "fr", **kw: object) -> LoggedQuestion:
    fields: dict[str, object] = {
        "id": n,
        "platform": "slack",
        "decision": "fallback",
        "topic": None,
        "text": text,
        "original": None,
        "lang": lang,
        "guesses": (),
        "choice": None,
        "asked_at": T0 + dt.timedelta(minutes=n),
    }
    fields.update(kw)
    return LoggedQuestion(**fields)  # type: ignore[arg-type]


def test_same_and_near_duplicate_texts_of_one_language_are_one_group() -> None:
    rows = [
        _q(1, "faut il des ecouteurs pour chaque eleve", original="Faut-il des écouteurs pour chaque élève ?"),
        _q(2, "faut il des ecouteurs pour chaque eleve"),
        _q(3, "faut il des ecouteur pour chaque eleve"),
        _q(4, "horaires de la piscine"),
        _q(5, "do the kids need headphones", lang="en"),
    ]
    groups = group_questions(rows)
    assert [(g.lang, g.count) for g in groups] == [("fr", 3), ("en", 1), ("fr", 1)]
    first = groups[0]
    assert first.text == "Faut-il des écouteurs pour chaque élève ?"
    assert [(t.text, t.count) for t in first.texts] == [
        ("Faut-il des écouteurs pour chaque élève ?", 2),
        ("faut il des ecouteur pour chaque eleve", 1),
    ]
    assert first.question_ids == (1, 2, 3)
    assert (first.first_asked, first.last_asked) == (rows[0].asked_at, rows[2].asked_at)


def test_the_same_text_in_two_languages_is_two_groups() -> None:
    groups = group_questions([_q(1, "parking"), _q(2, "parking", lang="en")])
    assert sorted(g.lang for g in groups) == ["en", "fr"]
    assert groups[0].key != groups[1].key


def test_keys_stay_when_questions_join_and_new_groups_appear() -> None:
    rows = [_q(1, "horaires de la piscine"), _q(2, "menu de la cantine")]
    keys = {g.text: g.key for g in group_questions(rows)}
    more = [*rows, _q(3, "horaires de la piscines"), _q(4, "horaires de la piscine"), _q(5, "salle des fetes")]
    later = {g.text: g.key for g in group_questions(more)}
    assert later["horaires de la piscine"] == keys["horaires de la piscine"]
    assert later["menu de la cantine"] == keys["menu de la cantine"]
    assert len(later) == 3


def test_guesses_are_averaged_and_the_choice_clicked_most_is_the_implicit_label() -> None:
    rows = [
        _q(1, "facebook ou site", decision="clarify", guesses=(("social-media", 40.0), ("district-homepage", 30.0))),
        _q(
            2,
            "facebook ou site",
            decision="clarify",
            guesses=(("social-media", 20.0), ("none", 50.0)),
            choice="district-homepage",
        ),
        _q(3, "facebook ou site", decision="fallback", choice=None),
        _q(4, "facebook ou le site", decision="clarify", choice="district-homepage"),
        _q(5, "facebook ou site", decision="clarify", choice="social-media"),
    ]
    [group] = group_questions(rows)
    assert group.guesses == (("social-media", 30.0), ("none", 25.0), ("district-homepage", 15.0))
    assert group.implicit_label == "district-homepage"
    assert group.choices == {"district-homepage": 2, "social-media": 1}
    assert group.decisions == {"clarify": 4, "fallback": 1}
