"""Applying a review: the knowledge files written, validated, the model retrained, the bot reloaded.

The steps, on a copy of the knowledge directory until the last moment:

1. take the review lock of the knowledge directory (``flock`` on a file in the temporary directory,
   so that a terminal and the web console never apply at once): a second apply gets ``busy``;
2. copy the directory, add the examples there (:mod:`bot.knowledge.curate`) and validate the copy as
   ``kb check`` does: on a problem, nothing is written (``invalid``);
3. retrain in a subprocess, ``python -m bot kb train --dir COPY`` (scikit-learn never enters the bot's
   process), while another subprocess measures the current model on the evaluation sets; then check
   the copy again, model included, and measure the new model;
4. swap the changed files (examples and ``model.json``) into place, each by an atomic rename, keeping
   the old ones in memory; reload the running bot; if that fails, the old files are put back;
5. take the questions out of the review queue, and return the figures and the diff.

The diff is a unified diff with ``a/`` and ``b/`` paths under the directory's name
(``knowledge/examples/fr.yaml``): ``git apply`` takes it in the directory's parent. The model is not
in it (3.5 MB of weights): after applying the patch elsewhere, run ``hoc-bot kb train``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.admin.review_eval import EvalFigures, parse_figures
from bot.core.classifier import MODEL_FILE, OFF_TOPIC
from bot.core.ports import REVIEWED_OFF_TOPIC, QuestionsLog
from bot.knowledge.check import check_kb
from bot.knowledge.curate import Addition, CurationPlan, Verdict, plan_additions, write_additions
from bot.knowledge.examples import read_examples
from bot.knowledge.loader import validate_kb
from bot.knowledge.train import training_problems

#: Longest a retraining may take before the apply gives up.
TRAIN_TIMEOUT = 600.0


@dataclass(slots=True)
class Outcome:
    """What an apply did.

    Attributes:
        status: ``applied``; ``nothing`` (every question was there already: no file changed);
            ``busy`` (another apply runs); ``invalid`` (the result would not pass ``kb check``);
            ``failed`` (training, evaluation or reload failed). Only ``applied`` changed files.
        message: One line for people.
        plan: Each question's verdict: added, skipped or refused, with the reason.
        reviewed: Questions taken out of the review queue.
        eval_before, eval_after: Accuracy per language on the evaluation sets (empty without sets).
        diff: The change to the knowledge directory as a patch (empty when nothing changed).
        files: The files changed, relative to the knowledge directory.
        problems: What ``kb check`` or training said, for ``invalid`` and ``failed``.
        seconds: How long it took.
    """

    status: str
    message: str = ""
    plan: CurationPlan = field(default_factory=CurationPlan)
    reviewed: int = 0
    eval_before: dict[str, EvalFigures] = field(default_factory=dict)
    eval_after: dict[str, EvalFigures] = field(default_factory=dict)
    diff: str = ""
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ApplyContext:
    """Where and how to apply (see :class:`bot.admin.review.Review`)."""

    kb_dir: Path
    eval_dir: Path | None
    python: str
    env: Mapping[str, str] | None
    reload: Callable[[], list[str]] | None
    store: QuestionsLog
    now: Callable[[], dt.datetime]
    progress: Callable[[str], None]


class _Busy(Exception):
    pass


class _Lock:
    """An exclusive, non-blocking lock on the review of one knowledge directory, across processes."""

    def __init__(self, kb_dir: Path) -> None:
        digest = hashlib.sha256(str(kb_dir.resolve()).encode()).hexdigest()[:16]
        self.path = Path(tempfile.gettempdir()) / f"hoc-bot-review-{digest}.lock"
        self._fd: int | None = None

    def __enter__(self) -> _Lock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _Busy from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def apply_change(
    ctx: ApplyContext,
    requests: Sequence[tuple[str, str, str, tuple[int, ...]]],
    evaluation: Mapping[str, set[str]],
) -> Outcome:
    """Apply ``(lang, label, text, question ids)`` requests to ``ctx.kb_dir`` (see the module's steps)."""
    started = time.perf_counter()
    try:
        with _Lock(ctx.kb_dir):
            outcome = _apply_locked(ctx, requests, evaluation)
    except _Busy:
        outcome = Outcome("busy", "another review is being applied to this knowledge base: try again when it ends")
    outcome.seconds = round(time.perf_counter() - started, 2)
    return outcome


def _apply_locked(
    ctx: ApplyContext,
    requests: Sequence[tuple[str, str, str, tuple[int, ...]]],
    evaluation: Mapping[str, set[str]],
) -> Outcome:
    ctx.progress("checking")
    with tempfile.TemporaryDirectory(prefix="hoc-review-") as tmp:
        copy = Path(tmp) / ctx.kb_dir.name
        shutil.copytree(ctx.kb_dir, copy, ignore=shutil.ignore_patterns("*.tmp", "*.review-tmp", "__pycache__"))
        plan = plan_additions(
            copy, [Addition(lang, label, text) for lang, label, text, _ in requests], evaluation=evaluation
        )
        if not plan.added:
            reviewed = _record(ctx, requests, plan)
            return Outcome("nothing", "no new example: every question was there already or refused", plan, reviewed)
        changed = [p.relative_to(copy) for p in write_additions(copy, plan.added)]
        problems = check_kb(copy) + read_examples(copy, _entry_ids(copy)).problems
        if problems:
            return Outcome(
                "invalid", "the knowledge base would not pass kb check: nothing written", plan, problems=problems
            )
        ctx.progress("training")
        before = _start_eval(ctx, ctx.kb_dir)
        trained = _run(ctx, ["-m", "bot", "kb", "train", "--dir", str(copy)], TRAIN_TIMEOUT)
        if trained.returncode != 0:
            _finish_eval(before)
            lines = (trained.stderr or trained.stdout or "").strip().splitlines()[-20:]
            return Outcome("failed", "retraining failed: nothing written", plan, problems=lines)
        problems = check_kb(copy) + training_problems(copy)
        if problems:
            _finish_eval(before)
            return Outcome("invalid", "the retrained knowledge base does not pass kb check", plan, problems=problems)
        ctx.progress("evaluating")
        after = _start_eval(ctx, copy)
        eval_before, eval_after = _finish_eval(before), _finish_eval(after)
        changed.append(Path(MODEL_FILE))
        diff = patch(ctx.kb_dir, copy, [p for p in changed if p.name != MODEL_FILE])
        ctx.progress("reloading")
        failure = _swap_and_reload(ctx, copy, changed)
        if failure is not None:
            return Outcome(
                "failed", "the bot did not reload the new knowledge base: put back as it was", plan, problems=failure
            )
    ctx.progress("recording")
    reviewed = _record(ctx, requests, plan)
    added = len(plan.added)
    return Outcome(
        "applied",
        f"{added} example(s) added, model retrained, bot reloaded",
        plan,
        reviewed,
        eval_before,
        eval_after,
        diff,
        [str(p) for p in changed],
    )


def _entry_ids(kb_dir: Path) -> list[str]:
    kb = validate_kb(kb_dir).kb
    return [e.id for e in kb.entries] if kb is not None else []


def _env(ctx: ApplyContext) -> dict[str, str]:
    return dict(os.environ if ctx.env is None else ctx.env)


def _run(ctx: ApplyContext, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - our own interpreter and module, arguments built here
            [ctx.python, *args], capture_output=True, text=True, timeout=timeout, env=_env(ctx), check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 1, "", f"timed out after {timeout:.0f} s")


def _start_eval(ctx: ApplyContext, kb_dir: Path) -> subprocess.Popen[str] | None:
    if ctx.eval_dir is None or not ctx.eval_dir.is_dir():
        return None
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [ctx.python, "-m", "bot.admin.review_eval", str(kb_dir), str(ctx.eval_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(ctx),
    )


def _finish_eval(process: subprocess.Popen[str] | None) -> dict[str, EvalFigures]:
    """The figures of an evaluation subprocess; none when it failed (the apply goes on without them)."""
    if process is None:
        return {}
    try:
        out, _ = process.communicate(timeout=TRAIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {}
    if process.returncode != 0:
        return {}
    try:
        return parse_figures(out)
    except (ValueError, TypeError):
        return {}


def patch(kb_dir: Path, copy: Path, files: Sequence[Path]) -> str:
    """The unified diff from ``kb_dir`` to ``copy`` for ``files``, paths ``a/<dir name>/…``."""
    header = (
        f"# hoc-bot kb review: examples added to {kb_dir.name}/. The model is not in this patch:\n"
        "# after applying it, run `hoc-bot kb train`.\n"
    )
    chunks = []
    for rel in sorted(files):
        old_path, new_path = kb_dir / rel, copy / rel
        old = old_path.read_text(encoding="utf-8").splitlines(keepends=True) if old_path.is_file() else []
        new = new_path.read_text(encoding="utf-8").splitlines(keepends=True)
        name = f"{kb_dir.name}/{rel.as_posix()}"
        chunks.append(f"diff --git a/{name} b/{name}\n")
        if not old_path.is_file():
            chunks.append("new file mode 100644\n")
        chunks.extend(
            difflib.unified_diff(
                old, new, fromfile=f"a/{name}" if old_path.is_file() else "/dev/null", tofile=f"b/{name}"
            )
        )
    return header + "".join(chunks) if chunks else ""


def _swap_and_reload(ctx: ApplyContext, copy: Path, changed: Sequence[Path]) -> list[str] | None:
    """Put the changed files in place and reload the bot; on a failure, put the old ones back."""
    saved: dict[Path, bytes | None] = {}
    try:
        for rel in changed:
            target = ctx.kb_dir / rel
            saved[target] = target.read_bytes() if target.is_file() else None
            _replace(target, (copy / rel).read_bytes())
        problems = ctx.reload() if ctx.reload is not None else []
    except OSError as exc:
        problems = [f"writing {ctx.kb_dir}: {exc}"]
    if not problems:
        return None
    for target, content in saved.items():
        if content is None:
            target.unlink(missing_ok=True)
        else:
            _replace(target, content)
    if ctx.reload is not None:
        ctx.reload()
    return problems


def _replace(target: Path, content: bytes) -> None:
    """Write ``target`` by an atomic rename: readers see the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".review-tmp")
    tmp.write_bytes(content)
    os.replace(tmp, target)


def _record(ctx: ApplyContext, requests: Sequence[tuple[str, str, str, tuple[int, ...]]], plan: CurationPlan) -> int:
    """Take out of the queue the questions now taught (added, or there already); refused ones stay."""
    fate: dict[tuple[str, str, str], Verdict] = {
        (v.addition.lang, v.addition.label, v.addition.text): v for v in plan.verdicts
    }
    by_label: dict[str, list[int]] = {}
    for lang, label, text, ids in requests:
        verdict = fate.get((lang, label, text))
        if verdict is not None and (verdict.added or verdict in plan.skipped):
            outcome = REVIEWED_OFF_TOPIC if label == OFF_TOPIC else label
            by_label.setdefault(outcome, []).extend(ids)
    now = ctx.now()
    return sum(ctx.store.mark_reviewed(ids, label, now) for label, ids in sorted(by_label.items()))
