"""What the review pages show, in the page's language: groups of questions, a job's stage, an outcome.

Plain data for the templates (dicts of strings), built from the review engine's values
(:class:`~bot.admin.review_groups.QuestionGroup`, :class:`~bot.admin.review_apply.Outcome`); every
sentence goes through the page's translator. No web framework here: the routes are in
:mod:`bot.admin.review_page`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.admin.progress import language_name

if TYPE_CHECKING:
    from bot.admin.review_apply import Outcome
    from bot.admin.review_groups import QuestionGroup
    from bot.i18n import BabelTranslator as Translator

#: The matcher's class of questions it should not answer (``bot.core.classifier.OFF_TOPIC``).
OFF_TOPIC = "none"
#: The choice of a group that does nothing now: it stays in the queue.
LATER = ""
#: The choices besides an entry id.
MARK_OFF_TOPIC, SKIP = "offtopic", "skip"


def label_name(label: str, titles: Mapping[str, str], t: Translator) -> str:
    """An entry's title (its id when the knowledge base has no such entry), or "off-topic"."""
    if label in (OFF_TOPIC, MARK_OFF_TOPIC):
        return t.gettext("off-topic")
    return titles.get(label, label)


def group_view(group: QuestionGroup, titles: Mapping[str, str], t: Translator) -> dict[str, Any]:
    """One group as the review page shows it."""
    decisions = []
    if group.decisions.get("fallback"):
        n = group.decisions["fallback"]
        decisions.append(t.ngettext("{count} not answered", "{count} not answered", n).format(count=t.format_number(n)))
    if group.decisions.get("clarify"):
        n = group.decisions["clarify"]
        decisions.append(
            t.ngettext("{count} answered “did you mean”", "{count} answered “did you mean”", n).format(
                count=t.format_number(n)
            )
        )
    return {
        "key": group.key,
        "text": group.text,
        "lang": group.lang,
        "lang_name": language_name(group.lang if group.lang != "und" else "?", t),
        "count": t.ngettext("asked {count} time", "asked {count} times", group.count).format(
            count=t.format_number(group.count)
        ),
        "decisions": t.format_list(decisions) if decisions else "",
        "texts": [{"text": w.text, "count": t.format_number(w.count)} for w in group.texts if w.text != group.text],
        "guesses": [
            t.gettext("{label}: {score}").format(
                label=label_name(label, titles, t), score=t.format_percent(score / 100)
            )
            for label, score in group.guesses
        ],
        "choices": [
            t.gettext("{label}: {count}").format(label=label_name(label, titles, t), count=t.format_number(n))
            for label, n in sorted(group.choices.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "last_asked": t.format_date(group.last_asked.date()),
    }


def stage_name(stage: str, t: Translator) -> str:
    """What a running job is doing, for people."""
    names = {
        "queued": t.gettext("Waiting to start"),
        "checking": t.gettext("Writing the examples and checking the knowledge base"),
        "training": t.gettext("Retraining the model and measuring the current one"),
        "evaluating": t.gettext("Measuring the new model on the evaluation sets"),
        "reloading": t.gettext("Reloading the bot"),
        "recording": t.gettext("Taking the questions out of the review queue"),
    }
    return names.get(stage, t.gettext("Finishing"))


def outcome_title(status: str, t: Translator) -> str:
    """The outcome page's heading."""
    titles = {
        "applied": t.gettext("Applied: the bot answers with the new examples now"),
        "nothing": t.gettext("Nothing to change: every question was already taught or was refused"),
        "busy": t.gettext("Not applied: another review is being applied to this knowledge base"),
        "invalid": t.gettext("Not applied: the knowledge base would not pass the check"),
        "failed": t.gettext("Not applied: retraining or reloading failed"),
    }
    return titles.get(status, titles["failed"])


def outcome_advice(status: str, t: Translator) -> str:
    """What to do after an outcome that changed nothing."""
    if status == "busy":
        return t.gettext("Nothing was written and your choices are kept below: try again in a minute.")
    if status in ("invalid", "failed"):
        return t.gettext(
            "Nothing was written: the bot keeps its current knowledge base. Your choices are kept below; "
            "the details are for whoever maintains the knowledge base."
        )
    return ""


def reason_text(reason: str, t: Translator) -> str:
    """Why a question was not added (the reasons of :mod:`bot.knowledge.curate`)."""
    from bot.knowledge.curate import ALREADY_PRESENT, EVALUATION, OTHER_LABEL

    reasons = {
        ALREADY_PRESENT: t.gettext("already an example"),
        OTHER_LABEL: t.gettext("already an example of another entry"),
        EVALUATION: t.gettext("a question of the evaluation sets (never taught, so that they keep measuring)"),
    }
    return reasons.get(reason, reason)


def outcome_view(outcome: Outcome, titles: Mapping[str, str], t: Translator) -> dict[str, Any]:
    """An outcome as the page shows it: counts, refusals, accuracy before and after, the diff."""
    plan = outcome.plan
    counts = [
        (t.gettext("Examples added"), t.format_number(len(plan.added))),
        (t.gettext("Already examples"), t.format_number(len(plan.skipped))),
        (t.gettext("Refused"), t.format_number(len(plan.refused))),
        (t.gettext("Questions taken out of the queue"), t.format_number(outcome.reviewed)),
        (t.gettext("Time taken"), t.gettext("{seconds} s").format(seconds=t.format_number(round(outcome.seconds)))),
    ]
    refused = [
        {
            "text": v.addition.text,
            "lang": language_name(v.addition.lang, t),
            "label": label_name(v.addition.label, titles, t),
            "reason": reason_text(v.reason, t),
            "other": label_name(v.other, titles, t) if v.other else "",
        }
        for v in plan.refused
    ]
    return {
        "status": outcome.status,
        "title": outcome_title(outcome.status, t),
        "advice": outcome_advice(outcome.status, t),
        "counts": counts,
        "refused": refused,
        "accuracy": accuracy_rows(outcome, t),
        "diff": diff_lines(outcome.diff),
        "has_diff": bool(outcome.diff),
        "problems": list(outcome.problems[:30]),
    }


def accuracy_rows(outcome: Outcome, t: Translator) -> list[list[str]]:
    """Per language: questions, answered right before and after, off-topic answered before and after."""
    rows = []
    for lang in sorted(set(outcome.eval_before) | set(outcome.eval_after)):
        before, after = outcome.eval_before.get(lang), outcome.eval_after.get(lang)
        either = after or before
        total = either.total if either is not None else 0
        rows.append(
            [
                language_name(lang, t),
                t.format_number(total),
                _right(before, t),
                _right(after, t),
                _change(before, after, t),
                _offtopic(before, t),
                _offtopic(after, t),
            ]
        )
    return rows


def _right(figures: Any, t: Translator) -> str:
    if figures is None:
        return "–"
    share = t.format_percent(figures.accuracy / 100)
    return t.gettext("{correct} ({share})").format(correct=t.format_number(figures.correct), share=share)


def _change(before: Any, after: Any, t: Translator) -> str:
    if before is None or after is None:
        return "–"
    delta = after.correct - before.correct
    sign = "+" if delta > 0 else ""
    return sign + t.format_number(delta)


def _offtopic(figures: Any, t: Translator) -> str:
    if figures is None or not figures.offtopic_total:
        return "–"
    return t.gettext("{answered} of {total}").format(
        answered=t.format_number(figures.offtopic_answered), total=t.format_number(figures.offtopic_total)
    )


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """The diff's lines with a class each (``add``, ``del``, ``hunk``, ``file``, ``note`` or ``ctx``)."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---", "diff --git", "new file")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("#"):
            kind = "note"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def decisions_from_form(form: Mapping[str, Any], known: Sequence[str]) -> dict[str, str]:
    """``decision-<group key>`` fields -> {group key: entry id, ``offtopic`` or ``skip``}; "later" left out.

    Only keys of ``known`` groups count (a group reviewed meanwhile in another tab is ignored).
    """
    wanted = set(known)
    out = {}
    for name, value in form.items():
        if not name.startswith("decision-"):
            continue
        key, choice = name.removeprefix("decision-"), str(value).strip()
        if key in wanted and choice != LATER:
            out[key] = choice
    return out
