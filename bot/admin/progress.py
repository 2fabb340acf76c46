"""The progress page's content: the store's aggregates turned into translated sections and CSV.

A section has a heading, a chart (SVG, see :mod:`bot.admin.charts`) and a table with the same
numbers; the CSV export writes the tables one after another. Everything is a count: no name or id
of a coordinator reaches this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.admin import charts
from bot.store.progress import QUESTION_DAYS, UNKNOWN_LANG, ProgressFigures

#: The plan's steps.
STEPS = (1, 2, 3, 4, 5)
#: Names of the languages the bot speaks, each in itself (the same on every page).
LANGUAGE_NAMES = {
    "ar": "العربية",
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "ko": "한국어",
    "nl": "Nederlands",
    "pt": "Português",
    "tr": "Türkçe",
}
PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "matrix": "Matrix", "console": "Console", "cli": "CLI"}


class Translator(Protocol):
    """What this module needs of :class:`bot.i18n.BabelTranslator`."""

    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...
    def format_date(self, value: dt.date) -> str: ...
    def format_number(self, value: int) -> str: ...
    def format_percent(self, fraction: float) -> str: ...


@dataclass(frozen=True)
class Section:
    """One block of the page: a heading, a chart and its table."""

    id: str
    heading: str
    chart: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str = ""


def language_name(code: str, t: Translator) -> str:
    """A language's own name, or "unknown"."""
    if code == UNKNOWN_LANG:
        return t.gettext("unknown")
    return LANGUAGE_NAMES.get(code, code)


def platform_name(code: str) -> str:
    """``Slack``, ``Telegram``…"""
    return PLATFORM_NAMES.get(code, code)


def _share(part: int, whole: int, t: Translator) -> str:
    return t.format_percent(part / whole) if whole else "–"


def sections(figures: ProgressFigures, t: Translator, today: dt.date) -> list[Section]:
    """The page's sections, in order."""
    return [
        _coordinators(figures, t),
        _funnel(figures, t),
        _events(figures, t, today),
        _reminders(figures, t),
        _questions(figures, t, today),
    ]


def _coordinators(figures: ProgressFigures, t: Translator) -> Section:
    per_platform: Counter[str] = Counter()
    for (platform, _), n in figures.by_platform_lang.items():
        per_platform[platform] += n
    bars = [(platform_name(p), n, t.format_number(n)) for p, n in sorted(per_platform.items())]
    heading = t.gettext("Coordinators per platform and language")
    description = t.gettext("{total} coordinators: {details}.").format(
        total=t.format_number(figures.coordinators),
        details=", ".join(f"{label} {shown}" for label, _, shown in bars) or "0",
    )
    rows = [
        [platform_name(p), language_name(lang, t), t.format_number(n), _share(n, figures.coordinators, t)]
        for (p, lang), n in sorted(figures.by_platform_lang.items(), key=lambda item: (item[0][0], -item[1]))
    ]
    rows.append([t.gettext("Total"), "", t.format_number(figures.coordinators), _share(1, 1, t)])
    return Section(
        "coordinators",
        heading,
        charts.hbars("chart-coordinators", heading, bars, description),
        [t.gettext("Platform"), t.gettext("Language"), t.gettext("Coordinators"), t.gettext("Share")],
        rows,
    )


def _funnel(figures: ProgressFigures, t: Translator) -> Section:
    total = figures.coordinators
    heading = t.gettext("Steps of the plan done")
    labels = [t.gettext("Step {number}").format(number=step) for step in STEPS]
    done = [figures.steps_done.get(step, 0) for step in STEPS]
    all_five = figures.steps_count.get(5, 0)
    bars = [(label, n, f"{t.format_number(n)} ({_share(n, total, t)})") for label, n in zip(labels, done, strict=True)]
    bars.append((t.gettext("All five steps"), all_five, f"{t.format_number(all_five)} ({_share(all_five, total, t)})"))
    description = "; ".join(f"{label}: {shown}" for label, _, shown in bars)
    rows = [[label, t.format_number(n), _share(n, total, t)] for label, n, _ in bars]
    none = figures.steps_count.get(0, 0)
    note = t.gettext("{count} coordinators have done no step yet.").format(count=t.format_number(none))
    return Section(
        "steps",
        heading,
        charts.hbars("chart-steps", heading, bars, description),
        [t.gettext("Step"), t.gettext("Coordinators who did it"), t.gettext("Share of coordinators")],
        rows,
        note,
    )


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def _events(figures: ProgressFigures, t: Translator, today: dt.date) -> Section:
    weeks: Counter[dt.date] = Counter()
    for day, n in figures.events_by_day.items():
        weeks[week_of(day)] += n
    this_week = week_of(today)
    heading = t.gettext("Events per week")
    points = [(monday.isoformat(), (n, 0) if monday < this_week else (0, n)) for monday, n in sorted(weeks.items())]
    past = sum(n for monday, n in weeks.items() if monday < this_week)
    upcoming = sum(weeks.values()) - past
    description = t.gettext("{past} events in past weeks, {upcoming} this week or later.").format(
        past=t.format_number(past), upcoming=t.format_number(upcoming)
    )
    rows = [
        [
            t.gettext("Week of {date}").format(date=t.format_date(monday)),
            t.format_number(n),
            t.gettext("past") if monday < this_week else t.gettext("upcoming"),
        ]
        for monday, n in sorted(weeks.items())
    ]
    note = t.gettext("{count} coordinators have set no event date (they follow the default date).").format(
        count=t.format_number(figures.no_event_date)
    )
    return Section(
        "events",
        heading,
        charts.columns("chart-events", heading, points, description),
        [t.gettext("Week"), t.gettext("Events"), t.gettext("When")],
        rows,
        note,
    )


def _reminders(figures: ProgressFigures, t: Translator) -> Section:
    statuses = [
        ("sent", t.gettext("sent")),
        ("failed", t.gettext("failed")),
        ("pending", t.gettext("waiting to be sent")),
        ("dropped", t.gettext("dropped (too late)")),
        ("cancelled", t.gettext("cancelled")),
    ]
    heading = t.gettext("Reminders")
    bars = [(label, figures.reminders_by_status.get(key, 0), "") for key, label in statuses]
    bars = [(label, n, t.format_number(n)) for label, n, _ in bars]
    paused_label = t.gettext("coordinators with reminders paused")
    bars.append((paused_label, figures.paused, t.format_number(figures.paused)))
    description = "; ".join(f"{label}: {shown}" for label, _, shown in bars)
    return Section(
        "reminders",
        heading,
        charts.hbars("chart-reminders", heading, bars, description),
        [t.gettext("Status"), t.gettext("Count")],
        [[label, shown] for label, _, shown in bars],
    )


def _questions(figures: ProgressFigures, t: Translator, today: dt.date) -> Section:
    days = [today - dt.timedelta(days=n) for n in range(QUESTION_DAYS - 1, -1, -1)]
    counts = [figures.questions_by_day.get(day, (0, 0)) for day in days]
    answered = sum(a for a, _ in counts)
    total = answered + sum(u for _, u in counts)
    heading = t.gettext("Questions per day")
    description = t.gettext("{total} questions in the last {days} days, {share} answered.").format(
        total=t.format_number(total), days=t.format_number(QUESTION_DAYS), share=_share(answered, total, t)
    )
    rows = [
        [t.format_date(day), t.format_number(a), t.format_number(u), _share(a, a + u, t)]
        for day, (a, u) in zip(days, counts, strict=True)
        if a or u
    ]
    rows.append(
        [t.gettext("Total"), t.format_number(answered), t.format_number(total - answered), _share(answered, total, t)]
    )
    return Section(
        "questions",
        heading,
        charts.columns(
            "chart-questions", heading, [(d.isoformat()[5:], c) for d, c in zip(days, counts, strict=True)], description
        ),
        [t.gettext("Day"), t.gettext("Answered"), t.gettext("Not answered"), t.gettext("Share answered")],
        rows,
    )


def to_csv(page_sections: Sequence[Section]) -> str:
    """The tables of the page one after another, each under its heading, separated by an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, section in enumerate(page_sections):
        if n:
            writer.writerow([])
        writer.writerow([section.heading])
        writer.writerow(section.headers)
        writer.writerows(section.rows)
    return out.getvalue()
