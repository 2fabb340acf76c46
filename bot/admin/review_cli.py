"""``hoc-bot kb review``: the review of the questions log in a terminal.

Interactive: the groups are listed, numbered; for each one type an entry (its id or number), ``o`` for
off-topic, ``s`` to skip it, Enter to leave it for later, ``q`` to stop choosing; then the choices are
applied at once (one retraining). Scriptable: ``--list``, ``--assign GROUP=ENTRY``, ``--off-topic GROUP``,
``--skip GROUP`` (a group by its number in the list or its key), ``--patch FILE``, ``--pid PID``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

# Only argparse at import time: `hoc-bot` builds its parser with these options on every command,
# `run` included, which must not load the review's modules.
if TYPE_CHECKING:
    from bot.admin.review import PendingChange, Review
    from bot.admin.review_apply import Outcome
    from bot.admin.review_groups import QuestionGroup


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kb review``."""
    parser.add_argument("--dir", type=Path, help="knowledge directory (default: the one the bot reads)")
    parser.add_argument("--eval-dir", type=Path, help="evaluation sets (default: $HOC_EVAL_DIR or the checkout's)")
    parser.add_argument("--lang", help="only questions in this language")
    parser.add_argument("--platform", help="only questions from this platform")
    parser.add_argument("--limit", type=int, default=50, help="groups shown (default 50)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument(
        "--assign", action="append", default=[], metavar="GROUP=ENTRY", help="teach a group as an entry"
    )
    parser.add_argument("--off-topic", action="append", default=[], metavar="GROUP", help="teach a group as off-topic")
    parser.add_argument("--skip", action="append", default=[], metavar="GROUP", help="leave a group out for good")
    parser.add_argument(
        "--patch", type=Path, help="where to write the change as a patch (default: ./kb-review-….patch)"
    )
    parser.add_argument("--pid", type=int, help="process id of `hoc-bot run` to reload afterwards (SIGHUP)")


def format_group(number: int, group: QuestionGroup) -> str:
    """One group on two lines: number, language, count, wording; guesses, clicks, other wordings, key."""
    from bot.core.messages import fit_label

    decisions = ", ".join(f"{d} {n}" for d, n in sorted(group.decisions.items()))
    first = f"[{number}] {group.lang} ×{group.count} ({decisions}) {fit_label(group.text, 100)!r}"
    details = []
    if group.guesses:
        details.append("guesses " + ", ".join(f"{label} {score:.0f}%" for label, score in group.guesses))
    if group.choices:
        details.append("clicked " + ", ".join(f"{e} ×{n}" for e, n in sorted(group.choices.items())))
    if len(group.texts) > 1:
        details.append(f"{len(group.texts) - 1} other wording(s)")
    details.append(f"key {group.key}")
    return first + "\n     " + "; ".join(details)


def review_command(args: argparse.Namespace, review: Review, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``kb review``; 0 when applied (or nothing to do), 1 when the apply did not go through."""
    from bot.admin.review import ReviewError

    groups = review.groups(lang=args.lang, platform=args.platform, limit=args.limit)
    entries = review.entries()
    if args.list or not (args.assign or args.off_topic or args.skip):
        if not groups:
            stdout.write("no question waiting for review\n")
            return 0
        for n, group in enumerate(groups, 1):
            stdout.write(format_group(n, group) + "\n")
        if args.list:
            return 0
        stdout.write("entries: " + ", ".join(f"{n} {eid}" for n, (eid, _) in enumerate(entries, 1)) + "\n")
    try:
        if args.assign or args.off_topic or args.skip:
            choices = _scripted(args, groups, entries)
        else:
            choices = _interactive(groups, entries, stdin, stdout)
    except ReviewError as exc:
        stderr.write(f"kb review: {exc}\n")
        return 2
    return _apply(args, review, choices, stdout, stderr)


Choices = dict[str, list[str]]  # label ("skip", "offtopic" or an entry id) -> group keys


def _group(token: str, groups: Sequence[QuestionGroup]) -> str:
    from bot.admin.review import ReviewError

    token = token.strip()
    if token.isdigit() and 1 <= int(token) <= len(groups):
        return groups[int(token) - 1].key
    if any(g.key == token for g in groups):
        return token
    raise ReviewError(f"no group {token!r} (a number of the list, or a key)")


def _entry(token: str, entries: Sequence[tuple[str, str]]) -> str:
    from bot.admin.review import ReviewError

    token = token.strip()
    if token.isdigit() and 1 <= int(token) <= len(entries):
        return entries[int(token) - 1][0]
    if any(eid == token for eid, _ in entries):
        return token
    raise ReviewError(f"no entry {token!r} (an id or a number: " + ", ".join(e for e, _ in entries) + ")")


def _scripted(args: argparse.Namespace, groups: Sequence[QuestionGroup], entries: Sequence[tuple[str, str]]) -> Choices:
    from bot.admin.review import ReviewError

    choices: Choices = {}
    for item in args.assign:
        group, sep, entry = item.partition("=")
        if not sep:
            raise ReviewError(f"--assign {item!r}: expected GROUP=ENTRY")
        choices.setdefault(_entry(entry, entries), []).append(_group(group, groups))
    for item in args.off_topic:
        choices.setdefault("offtopic", []).append(_group(item, groups))
    for item in args.skip:
        choices.setdefault("skip", []).append(_group(item, groups))
    return choices


def _interactive(
    groups: Sequence[QuestionGroup], entries: Sequence[tuple[str, str]], stdin: TextIO, stdout: TextIO
) -> Choices:
    choices: Choices = {}
    for n, group in enumerate(groups, 1):
        while True:
            stdout.write(f"[{n}] entry (id or number), o = off-topic, s = skip, Enter = later, q = done: ")
            stdout.flush()
            line = stdin.readline()
            answer = line.strip()
            if not line or answer == "q":
                return choices
            if not answer:
                break
            if answer == "o":
                choices.setdefault("offtopic", []).append(group.key)
                break
            if answer == "s":
                choices.setdefault("skip", []).append(group.key)
                break
            try:
                choices.setdefault(_entry(answer, entries), []).append(group.key)
                break
            except ValueError as exc:  # ReviewError
                stdout.write(f"{exc}\n")
    return choices


def _apply(args: argparse.Namespace, review: Review, choices: Choices, stdout: TextIO, stderr: TextIO) -> int:
    if "skip" in choices:
        stdout.write(f"skipped: {review.skip(choices.pop('skip'))} question(s)\n")
    changes: list[PendingChange] = []
    for label, keys in choices.items():
        changes.append(review.mark_off_topic(keys) if label == "offtopic" else review.assign(keys, label))
    if not changes:
        return 0
    change = review.merge(*changes)
    stdout.write("applying: {added} to add, {skipped} there already, {refused} refused\n".format(**change.summary()))
    outcome = review.wait(review.start_apply(change))
    assert outcome is not None  # no timeout: the job ends with an outcome
    _report(outcome, stdout)
    if outcome.status not in ("applied", "nothing"):
        for problem in outcome.problems[:20]:
            stderr.write(f"  {problem}\n")
        return 1
    if outcome.diff:
        path = args.patch or Path(f"kb-review-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.patch")
        path.write_text(outcome.diff, encoding="utf-8")
        stdout.write(f"diff: {path}\n")
    if args.pid is not None and outcome.status == "applied":
        try:
            os.kill(args.pid, signal.SIGHUP)
        except OSError as exc:
            stderr.write(f"kb review: could not signal process {args.pid}: {exc.strerror}\n")
            return 1
        stdout.write(f"asked process {args.pid} to reload the knowledge base\n")
    return 0


def _report(outcome: Outcome, stdout: TextIO) -> None:
    stdout.write(f"{outcome.status}: {outcome.message} ({outcome.seconds:.1f} s)\n")
    for verdict in outcome.plan.refused:
        a = verdict.addition
        stdout.write(f"  refused ({a.lang}) {a.text!r}: {verdict.reason} {verdict.other}".rstrip() + "\n")
    if outcome.reviewed:
        stdout.write(f"reviewed: {outcome.reviewed} question(s) leave the queue\n")
    if outcome.eval_before or outcome.eval_after:
        stdout.write("accuracy on the evaluation sets (on-topic answered right; off-topic answered):\n")
        for lang in sorted(set(outcome.eval_before) | set(outcome.eval_after)):
            before, after = outcome.eval_before.get(lang), outcome.eval_after.get(lang)
            left = f"{before.accuracy:5.1f} % {before.offtopic_answered}/{before.offtopic_total}" if before else "-"
            right = f"{after.accuracy:5.1f} % {after.offtopic_answered}/{after.offtopic_total}" if after else "-"
            stdout.write(f"  {lang}  before {left}  after {right}\n")
    elif outcome.status == "applied":
        stdout.write("no evaluation set (HOC_EVAL_DIR): no accuracy figures\n")
