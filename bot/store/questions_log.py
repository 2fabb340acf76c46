"""The questions log on SQLAlchemy Core: logging a question, the choice clicked after a "did you mean",
the review queue and its outcomes, the retention purge. No user id anywhere in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Connection, Engine, delete, insert, select, update

from bot.core.ports import LoggedQuestion
from bot.store.question_values import CLARIFY_REF_SIZE, guesses_of, question_row
from bot.store.schema import questions
from bot.store.utc import as_utc

_INSERT_QUESTION = insert(questions)


class SqlQuestionsLog:
    """The questions log of :class:`bot.store.sql.SqlStore` (which provides the engine and transactions)."""

    engine: Engine

    def _write(self, *, urgent: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def log_question(
        self,
        platform: str,
        decision: str,
        topic: str | None,
        text: str | None,
        at: dt.datetime,
        *,
        lang: str | None = None,
        guesses: Sequence[tuple[str, float]] = (),
        original: str | None = None,
        ref: str | None = None,
    ) -> None:
        """Record a question's outcome (no user id)."""
        row = question_row(platform, decision, topic, text, at, lang=lang, guesses=guesses, original=original, ref=ref)
        with self._write() as conn:
            conn.execute(_INSERT_QUESTION, row)

    def record_choice(self, ref: str, topic: str) -> bool:
        """Record the entry clicked for the "did you mean" question of reference ``ref``."""
        if not ref or len(ref) > CLARIFY_REF_SIZE:
            return False
        with self._write() as conn:
            result = conn.execute(update(questions).where(questions.c.ref == ref).values(choice=topic[:64]))
        return bool(result.rowcount)

    def questions_to_review(
        self,
        *,
        decisions: Collection[str] = ("fallback", "clarify"),
        platform: str | None = None,
        lang: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 10_000,
    ) -> list[LoggedQuestion]:
        """Questions with a text that no review has dealt with yet, oldest first."""
        query = select(questions).where(
            questions.c.decision.in_(list(decisions)),
            questions.c.text.is_not(None),
            questions.c.reviewed_at.is_(None),
        )
        if platform is not None:
            query = query.where(questions.c.platform == platform)
        if lang is not None:
            query = query.where(questions.c.lang == lang)
        if since is not None:
            query = query.where(questions.c.asked_at >= as_utc(since))
        query = query.order_by(questions.c.id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            LoggedQuestion(
                id=int(m["id"]),
                platform=m["platform"],
                decision=m["decision"],
                topic=m["topic"],
                text=m["text"],
                original=m["original"],
                lang=m["lang"],
                guesses=guesses_of(m["guesses"]),
                choice=m["choice"],
                asked_at=m["asked_at"],
            )
            for m in (row._mapping for row in rows)
        ]

    def mark_reviewed(self, ids: Collection[int], outcome: str, at: dt.datetime) -> int:
        """Take questions out of the review queue with their outcome."""
        wanted = sorted({int(i) for i in ids})
        done = 0
        with self._write() as conn:
            # In slices: a review can deal with thousands of questions, and drivers bound parameters.
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = conn.execute(
                    update(questions)
                    .where(questions.c.id.in_(chunk), questions.c.reviewed_at.is_(None))
                    .values(reviewed_at=as_utc(at), review=outcome[:64])
                )
                done += int(result.rowcount)
        return done

    def purge_questions(self, asked_before: dt.datetime) -> int:
        """Delete the questions asked before ``asked_before`` (the retention period's start)."""
        with self._write() as conn:
            result = conn.execute(delete(questions).where(questions.c.asked_at < as_utc(asked_before)))
        return int(result.rowcount)
