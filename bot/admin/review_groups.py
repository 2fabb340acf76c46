"""Grouping the review queue: near-duplicate questions of one language together.

Questions are compared by their normalised text (:func:`bot.core.text.normalize`): the same text is one
question asked several times; two texts whose rapidfuzz token-sort ratio is at least
:data:`NEAR_DUPLICATE` are near-duplicates ("comment recruter des écoles" / "comment recruter les
écoles ?"). Groups are built in the order questions were first asked, each one keyed by its language
and its first question, so that a group keeps its key while new questions join it or new groups appear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.ports import LoggedQuestion

#: Two normalised questions of one language this similar (token-sort ratio, 0–100) are one group.
NEAR_DUPLICATE = 85.0


@dataclass(frozen=True, slots=True)
class GroupText:
    """One wording of a group: as typed (the first time), normalised, and how often it was asked."""

    text: str
    normalized: str
    count: int


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Near-duplicate questions of one language, as an editor reviews them.

    Attributes:
        key: Stable key (language and first question): what :meth:`Review.assign` takes.
        lang: Their language.
        texts: Their wordings, most asked first.
        count: How many questions.
        question_ids: The rows of the questions log.
        decisions: ``fallback``/``clarify`` -> count.
        guesses: The matcher's likeliest classes over the group (mean score where guessed), best first.
        implicit_label: The entry clicked most after a "did you mean", if any.
        choices: Entry -> times clicked.
        platforms: Platform -> count.
        first_asked: When the first was asked.
        last_asked: When the last was asked.
    """

    key: str
    lang: str
    texts: tuple[GroupText, ...]
    count: int
    question_ids: tuple[int, ...]
    decisions: dict[str, int]
    guesses: tuple[tuple[str, float], ...]
    implicit_label: str | None
    choices: dict[str, int]
    platforms: dict[str, int]
    first_asked: dt.datetime
    last_asked: dt.datetime

    @property
    def text(self) -> str:
        """The wording asked most."""
        return self.texts[0].text


def group_key(lang: str, normalized: str) -> str:
    """The key of the group whose first question is ``normalized``."""
    return hashlib.sha256(f"{lang}\n{normalized}".encode()).hexdigest()[:12]


def group_questions(rows: Sequence[LoggedQuestion], threshold: float = NEAR_DUPLICATE) -> list[QuestionGroup]:
    """Group ``rows`` (oldest first); the groups most asked first, then the most recently asked."""
    by_lang: dict[str, list[LoggedQuestion]] = defaultdict(list)
    for row in rows:
        by_lang[row.lang or "und"].append(row)
    groups: list[QuestionGroup] = []
    for lang, items in by_lang.items():
        # The representative of each cluster is its first text; a new text joins the closest one.
        heads: list[str] = []
        members: list[list[LoggedQuestion]] = []
        where: dict[str, int] = {}
        for row in sorted(items, key=lambda r: (r.asked_at, r.id)):
            if row.text in where:
                members[where[row.text]].append(row)
                continue
            hit = process.extractOne(row.text, heads, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
            if hit is None:
                where[row.text] = len(heads)
                heads.append(row.text)
                members.append([row])
            else:
                where[row.text] = hit[2]
                members[hit[2]].append(row)
        groups.extend(_group(lang, head, rows_) for head, rows_ in zip(heads, members, strict=True))
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.key))
    return groups


def _group(lang: str, head: str, rows: list[LoggedQuestion]) -> QuestionGroup:
    counts: Counter[str] = Counter(r.text for r in rows)
    typed: dict[str, str] = {}
    for r in rows:
        typed.setdefault(r.text, r.original or r.text)
    texts = tuple(GroupText(typed[t], t, n) for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], typed[kv[0]])))
    sums: dict[str, float] = defaultdict(float)
    seen: Counter[str] = Counter()
    for r in rows:
        for label, score in r.guesses:
            sums[label] += score
            seen[label] += 1
    guessed = [r for r in rows if r.guesses]
    mean = {label: sums[label] / max(len(guessed), 1) for label in sums}
    guesses = tuple(
        (label, round(score, 1)) for label, score in sorted(mean.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    )
    choices = Counter(r.choice for r in rows if r.choice)
    implicit = sorted(choices.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if choices else None
    return QuestionGroup(
        key=group_key(lang, head),
        lang=lang,
        texts=texts,
        count=len(rows),
        question_ids=tuple(r.id for r in rows),
        decisions=dict(Counter(r.decision for r in rows)),
        guesses=guesses,
        implicit_label=implicit,
        choices=dict(choices),
        platforms=dict(Counter(r.platform for r in rows)),
        first_asked=min(r.asked_at for r in rows),
        last_asked=max(r.asked_at for r in rows),
    )
