"""The questions log kept in memory: the twin of :mod:`bot.store.questions_log` for tests and ``chat --memory``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Collection, Sequence
from typing import Any

from bot.core.ports import LoggedQuestion
from bot.store.question_values import guesses_of, question_row
from bot.store.utc import as_utc


@dataclasses.dataclass(slots=True)
class _Row:
    id: int
    values: dict[str, Any]
    choice: str | None = None
    reviewed_at: dt.datetime | None = None
    review: str | None = None


class MemoryQuestionsLog:
    """The questions log of :class:`bot.store.memory.MemoryStore` (which provides the lock)."""

    _lock: threading.RLock

    def _init_questions(self) -> None:
        self._question_rows: list[_Row] = []
        self._next_question = 1

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
        with self._lock:
            self._question_rows.append(_Row(self._next_question, row))
            self._next_question += 1

    def record_choice(self, ref: str, topic: str) -> bool:
        """Record the entry clicked for the "did you mean" question of reference ``ref``."""
        with self._lock:
            found = [r for r in self._question_rows if ref and r.values["ref"] == ref]
            for row in found:
                row.choice = topic[:64]
        return bool(found)

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
        since = as_utc(since) if since is not None else None
        out: list[LoggedQuestion] = []
        with self._lock:
            for row in self._question_rows:
                v = row.values
                if (
                    v["decision"] not in decisions
                    or v["text"] is None
                    or row.reviewed_at is not None
                    or (platform is not None and v["platform"] != platform)
                    or (lang is not None and v["lang"] != lang)
                    or (since is not None and v["asked_at"] < since)
                ):
                    continue
                out.append(
                    LoggedQuestion(
                        id=row.id,
                        platform=v["platform"],
                        decision=v["decision"],
                        topic=v["topic"],
                        text=v["text"],
                        original=v["original"],
                        lang=v["lang"],
                        guesses=guesses_of(v["guesses"]),
                        choice=row.choice,
                        asked_at=v["asked_at"],
                    )
                )
                if len(out) >= limit:
                    break
        return out

    def mark_reviewed(self, ids: Collection[int], outcome: str, at: dt.datetime) -> int:
        """Take questions out of the review queue with their outcome."""
        wanted = set(ids)
        done = 0
        with self._lock:
            for row in self._question_rows:
                if row.id in wanted and row.reviewed_at is None:
                    row.reviewed_at, row.review = as_utc(at), outcome[:64]
                    done += 1
        return done

    def purge_questions(self, asked_before: dt.datetime) -> int:
        """Delete the questions asked before ``asked_before``."""
        asked_before = as_utc(asked_before)
        with self._lock:
            kept = [r for r in self._question_rows if r.values["asked_at"] >= asked_before]
            gone, self._question_rows = len(self._question_rows) - len(kept), kept
        return gone

    def _question_counts(self) -> tuple[list[str], list[str]]:
        """Every question's decision, and the texts of those not answered (for ``stats``)."""
        with self._lock:
            decisions = [r.values["decision"] for r in self._question_rows]
            texts = [
                r.values["text"]
                for r in self._question_rows
                if r.values["decision"] != "answer" and r.values["text"] is not None
            ]
        return decisions, texts
