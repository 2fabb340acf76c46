"""Review of the questions log: what coordinators asked that the bot did not answer, turned into examples.

A platform-free service (no web framework), used by ``hoc-bot kb review`` and by the admin console:

- :meth:`Review.groups`: unanswered and "did you mean" questions not yet reviewed, near-duplicates of
  one language grouped (:mod:`bot.admin.review_groups`), with the matcher's guesses and the entry
  users clicked;
- :meth:`Review.assign` / :meth:`Review.mark_off_topic`: a :class:`PendingChange` that makes a group's
  questions curated examples of an entry, or off-topic negatives, in their language; nothing is written
  yet, and changes add up (:meth:`PendingChange.merged`) so that one retraining serves many groups;
- :meth:`Review.apply` (or :meth:`Review.start_apply` and :meth:`Review.status` from a web page): the
  knowledge files written, validated, the model retrained, the accuracy measured before and after,
  the running bot reloaded, the questions taken out of the queue (:mod:`bot.admin.review_apply`).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.admin.review_apply import ApplyContext, Outcome, apply_change
from bot.admin.review_eval import evaluation_texts
from bot.admin.review_groups import QuestionGroup, group_questions
from bot.core.classifier import OFF_TOPIC
from bot.core.knowledge import ENTRY_IDS
from bot.core.ports import QuestionsLog
from bot.knowledge.curate import Addition, CurationPlan, known_labels, plan_additions
from bot.knowledge.loader import validate_kb

#: The outcome of questions an editor chose to leave as they are.
SKIPPED = "skipped"


class ReviewError(ValueError):
    """A request that names no group or no entry of the knowledge base."""


@dataclass(frozen=True, slots=True)
class Request:
    """Questions of the log to teach as ``label`` (an entry id or the off-topic class)."""

    lang: str
    label: str
    text: str
    question_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PendingChange:
    """What applying would do: the requests, and the plan they give against today's files.

    Attributes:
        requests: One per distinct wording of each group assigned or marked off-topic.
        plan: Added, skipped (already there) or refused (another entry's, or an evaluation question).
        group_keys: The groups the change deals with.
    """

    requests: tuple[Request, ...]
    plan: CurationPlan = field(compare=False)
    group_keys: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing was requested."""
        return not self.requests

    def summary(self) -> dict[str, int]:
        """Counts: questions added, skipped, refused."""
        return {"added": len(self.plan.added), "skipped": len(self.plan.skipped), "refused": len(self.plan.refused)}


@dataclass(slots=True)
class JobStatus:
    """Where a background apply is: ``running`` (with its ``stage``) or ``done`` (with its outcome)."""

    id: str
    state: str
    stage: str
    started_at: dt.datetime
    outcome: Outcome | None = None


class Review:
    """The review service over a questions log and a knowledge directory.

    Args:
        store: The questions log (a Store).
        kb_dir: The knowledge directory the running bot reads.
        eval_dir: The team's evaluation sets (None: no before/after figures).
        reload: Makes the running bot load the knowledge base again (``Bot.reload``: problems, or
            nothing); None when no bot runs in this process.
        env: Environment of the training and evaluation subprocesses (matcher thresholds included).
        python: The interpreter of those subprocesses.
        clock: The time of reviews.
    """

    def __init__(
        self,
        store: QuestionsLog,
        kb_dir: Path,
        *,
        eval_dir: Path | None = None,
        reload: Callable[[], list[str]] | None = None,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.kb_dir = kb_dir
        self.eval_dir = eval_dir
        self.reload = reload
        self.env = env
        self.python = python
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._jobs: dict[str, JobStatus] = {}
        self._jobs_lock = threading.Lock()
        self._cache: tuple[object, dict[tuple[str, str], str], dict[str, set[str]]] | None = None

    # ------------------------------------------------------------------ the queue
    def groups(
        self,
        *,
        lang: str | None = None,
        platform: str | None = None,
        decisions: Collection[str] = ("fallback", "clarify"),
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[QuestionGroup]:
        """The groups of questions waiting for review, most asked first."""
        rows = self.store.questions_to_review(decisions=decisions, platform=platform, lang=lang, since=since)
        groups = group_questions(rows)
        return groups[:limit] if limit is not None else groups

    def entries(self, lang: str = "en") -> list[tuple[str, str]]:
        """``(entry id, title)`` of the knowledge base's entries, in the guide's order (for choosing),
        titles in ``lang`` where the entry has it."""
        kb = validate_kb(self.kb_dir).kb
        if kb is None:
            return []
        order = {eid: i for i, eid in enumerate(ENTRY_IDS)}
        out = []
        for entry in sorted(kb.entries, key=lambda e: (order.get(e.id, len(order)), e.id)):
            _, content = entry.best(lang, "fr" if lang == "en" else "en")
            out.append((entry.id, content.title))
        return out

    # ------------------------------------------------------------------ decisions
    def assign(self, group_keys: Iterable[str], entry_id: str) -> PendingChange:
        """The groups' questions as examples of ``entry_id`` in their languages (nothing written yet)."""
        if entry_id not in {eid for eid, _ in self.entries()}:
            raise ReviewError(f"no entry {entry_id!r} in {self.kb_dir}")
        return self._change(group_keys, entry_id)

    def mark_off_topic(self, group_keys: Iterable[str]) -> PendingChange:
        """The groups' questions as off-topic examples in their languages (nothing written yet)."""
        return self._change(group_keys, OFF_TOPIC)

    def merge(self, *changes: PendingChange) -> PendingChange:
        """One change doing all of ``changes`` (one retraining), planned again against today's files."""
        requests = tuple(r for change in changes for r in change.requests)
        keys = tuple(k for change in changes for k in change.group_keys)
        return PendingChange(requests, self._plan(requests), keys)

    def skip(self, group_keys: Iterable[str]) -> int:
        """Take groups out of the queue without teaching anything; how many questions."""
        groups = self._find(group_keys)
        ids = [i for g in groups for i in g.question_ids]
        return self.store.mark_reviewed(ids, SKIPPED, self.clock())

    def _find(self, group_keys: Iterable[str]) -> list[QuestionGroup]:
        wanted = list(dict.fromkeys(group_keys))
        by_key = {g.key: g for g in self.groups()}
        missing = [k for k in wanted if k not in by_key]
        if missing:
            raise ReviewError(f"no group {', '.join(missing)} in the review queue")
        return [by_key[k] for k in wanted]

    def _change(self, group_keys: Iterable[str], label: str) -> PendingChange:
        groups = self._find(group_keys)
        requests = []
        rows = {r.id: r for r in self.store.questions_to_review()}
        for group in groups:
            for wording in group.texts:
                ids = tuple(i for i in group.question_ids if rows[i].text == wording.normalized)
                requests.append(Request(group.lang, label, wording.text, ids))
        return PendingChange(tuple(requests), self._plan(requests), tuple(g.key for g in groups))

    def _plan(self, requests: Sequence[Request]) -> CurationPlan:
        wanted = [Addition(r.lang, r.label, r.text) for r in requests]
        known, evaluation = self._labels()
        return plan_additions(self.kb_dir, wanted, evaluation=evaluation, known=known)

    def _labels(self) -> tuple[dict[tuple[str, str], str], dict[str, set[str]]]:
        """What the knowledge files and the evaluation sets teach, read again only when a file changed."""
        signature = tuple(
            (str(p), p.stat().st_mtime_ns)
            for folder in (self.kb_dir / "examples", self.kb_dir / "entries", self.eval_dir)
            if folder is not None and folder.is_dir()
            for p in sorted(folder.rglob("*.yaml"))
        )
        if self._cache is None or self._cache[0] != signature:
            self._cache = (signature, known_labels(self.kb_dir), evaluation_texts(self.eval_dir))
        return self._cache[1], self._cache[2]

    # ------------------------------------------------------------------ applying
    def apply(self, change: PendingChange, *, progress: Callable[[str], None] | None = None) -> Outcome:
        """Write, validate, retrain, measure, reload and record ``change``; see :mod:`bot.admin.review_apply`.

        One apply at a time per knowledge directory (across processes too): a second one gets the
        outcome ``busy``. A failure anywhere leaves the knowledge files and the model as they were.
        """
        context = ApplyContext(
            kb_dir=self.kb_dir,
            eval_dir=self.eval_dir,
            python=self.python,
            env=self.env,
            reload=self.reload,
            store=self.store,
            now=self.clock,
            progress=progress or (lambda stage: None),
        )
        return apply_change(
            context,
            [(r.lang, r.label, r.text, r.question_ids) for r in change.requests],
            evaluation_texts(self.eval_dir),
        )

    def start_apply(self, change: PendingChange) -> str:
        """Apply ``change`` in a background thread; the job id for :meth:`status`."""
        job = JobStatus(uuid.uuid4().hex, "running", "queued", self.clock())
        with self._jobs_lock:
            self._jobs[job.id] = job

        def stage(name: str) -> None:
            job.stage = name

        def run() -> None:
            try:
                job.outcome = self.apply(change, progress=stage)
            except Exception as exc:  # reported through the status, never lost in a thread
                job.outcome = Outcome(status="failed", message=f"{type(exc).__name__}: {exc}")
            job.stage, job.state = "done", "done"

        threading.Thread(target=run, name=f"review-{job.id[:8]}", daemon=True).start()
        return job.id

    def status(self, job_id: str) -> JobStatus | None:
        """The state of a job started by :meth:`start_apply` (None for an unknown id)."""
        with self._jobs_lock:
            return self._jobs.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> Outcome | None:
        """Wait for a job (the terminal's way); its outcome, or None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.status(job_id)
            if job is None or job.state == "done":
                return job.outcome if job else None
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.1)
