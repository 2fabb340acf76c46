"""Aggregates of the programme's progress for the /admin console: counts only, never a user.

A few GROUP BY queries in SQLAlchemy Core, the same on SQLite and PostgreSQL. Each groups by the
user's platform and raw language (their chosen locale, else the language of their sentences, else
the platform's hint) besides what it counts, so that the platform and language filters are applied
to small grouped rows in Python; the language is reduced to its primary subtag there (``fr-CA`` ->
``fr``), which SQL cannot do the same way on both engines.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, literal_column, select

from bot.store.schema import READ_ONLY_OPTION, questions, reminders, steps, users

#: Language of a user whose language is not known at all.
UNKNOWN_LANG = "?"
#: Days of questions shown per day.
QUESTION_DAYS = 30


def primary_lang(raw: str | None) -> str:
    """``fr-CA`` / ``pt_BR`` / ``FR`` -> ``fr`` / ``pt`` / ``fr``; :data:`UNKNOWN_LANG` for none."""
    if not raw:
        return UNKNOWN_LANG
    return raw.replace("_", "-").split("-")[0].strip().lower() or UNKNOWN_LANG


@dataclass(frozen=True, slots=True)
class Filters:
    """Which coordinators count: one platform and one language (primary subtag), or all."""

    platform: str | None = None
    lang: str | None = None

    def keeps(self, platform: str, raw_lang: str | None) -> bool:
        """True when a group of this platform and raw language counts."""
        if self.platform is not None and platform != self.platform:
            return False
        return self.lang is None or primary_lang(raw_lang) == self.lang


@dataclass(frozen=True)
class ProgressFigures:
    """What the progress page shows; every value is a count of coordinators, reminders or questions.

    Attributes:
        platforms: Every platform with coordinators (unfiltered: the filter's choices).
        langs: Every language with coordinators (unfiltered: the filter's choices).
        coordinators: Filtered coordinators.
        by_platform_lang: (platform, language) -> coordinators.
        steps_done: Step -> coordinators who marked it done.
        steps_count: Number of steps done (0-5) -> coordinators.
        events_by_day: Event date -> coordinators whose event is that day (only dates they set).
        no_event_date: Coordinators who set no date (they follow the default date).
        reminders_by_status: ``sent``, ``failed``, ``pending``, ``dropped``, ``cancelled`` -> reminders.
        paused: Coordinators whose reminders are off (``reminders off`` or the platform refused them).
        questions_by_day: Day (UTC) -> (answered, not answered) over the last :data:`QUESTION_DAYS` days;
            questions are filtered by platform and by the language they were asked in.
    """

    platforms: list[str]
    langs: list[str]
    coordinators: int
    by_platform_lang: dict[tuple[str, str], int]
    steps_done: dict[int, int]
    steps_count: dict[int, int]
    events_by_day: dict[dt.date, int]
    no_event_date: int
    reminders_by_status: dict[str, int]
    paused: int
    questions_by_day: dict[dt.date, tuple[int, int]] = field(default_factory=dict)


def _lang_column() -> Any:
    return func.coalesce(users.c.locale, users.c.written_lang, users.c.locale_hint).label("lang")


def _as_date(value: Any) -> dt.date:
    """A ``DATE()`` result: a string on SQLite, a date on PostgreSQL."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def progress_figures(engine: Engine, filters: Filters, today: dt.date) -> ProgressFigures:
    """The figures of the progress page for ``filters``, questions up to ``today`` (UTC)."""
    lang = _lang_column()
    since = dt.datetime.combine(today - dt.timedelta(days=QUESTION_DAYS - 1), dt.time(), tzinfo=dt.UTC)
    if engine.dialect.name == "postgresql":
        # A literal, not a parameter: the GROUP BY must repeat the very same expression.
        day = func.date(func.timezone(literal_column("'UTC'"), questions.c.asked_at))
    else:
        day = func.date(questions.c.asked_at)
    per_user_steps = (
        select(steps.c.user_id, func.count().label("done")).group_by(steps.c.user_id).subquery("per_user_steps")
    )
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as conn, conn.begin():
        user_rows = conn.execute(
            select(
                users.c.platform,
                lang,
                users.c.reminders_enabled,
                users.c.event_date,
                func.coalesce(per_user_steps.c.done, 0),
                func.count(),
            )
            .select_from(users.outerjoin(per_user_steps, per_user_steps.c.user_id == users.c.id))
            .group_by(users.c.platform, lang, users.c.reminders_enabled, users.c.event_date, per_user_steps.c.done)
        ).all()
        step_rows = conn.execute(
            select(users.c.platform, lang, steps.c.step, func.count())
            .select_from(steps.join(users, users.c.id == steps.c.user_id))
            .group_by(users.c.platform, lang, steps.c.step)
        ).all()
        reminder_rows = conn.execute(
            select(users.c.platform, lang, reminders.c.status, func.count())
            .select_from(reminders.join(users, users.c.id == reminders.c.user_id))
            .group_by(users.c.platform, lang, reminders.c.status)
        ).all()
        question_rows = conn.execute(
            select(day.label("day"), questions.c.platform, questions.c.lang, questions.c.decision, func.count())
            .where(questions.c.asked_at >= since)
            .group_by(day, questions.c.platform, questions.c.lang, questions.c.decision)
        ).all()
    return _figures(filters, user_rows, step_rows, reminder_rows, question_rows)


def _figures(
    filters: Filters,
    user_rows: Iterable[Any],
    step_rows: Iterable[Any],
    reminder_rows: Iterable[Any],
    question_rows: Iterable[Any],
) -> ProgressFigures:
    platforms: set[str] = set()
    langs: set[str] = set()
    by_platform_lang: Counter[tuple[str, str]] = Counter()
    steps_count: Counter[int] = Counter()
    events: Counter[dt.date] = Counter()
    no_date = paused = 0
    for platform, raw_lang, enabled, event_date, done, n in user_rows:
        platforms.add(platform)
        langs.add(primary_lang(raw_lang))
        if not filters.keeps(platform, raw_lang):
            continue
        by_platform_lang[(platform, primary_lang(raw_lang))] += n
        steps_count[min(int(done), 5)] += n
        if event_date is None:
            no_date += n
        else:
            events[event_date] += n
        if not enabled:
            paused += n
    steps_done: Counter[int] = Counter()
    for platform, raw_lang, step, n in step_rows:
        if filters.keeps(platform, raw_lang):
            steps_done[int(step)] += n
    by_status: Counter[str] = Counter()
    for platform, raw_lang, status, n in reminder_rows:
        if filters.keeps(platform, raw_lang):
            by_status[str(status)] += n
    by_day: dict[dt.date, list[int]] = {}
    for day, platform, raw_lang, decision, n in question_rows:
        if not filters.keeps(platform, raw_lang):
            continue
        counts = by_day.setdefault(_as_date(day), [0, 0])
        counts[0 if decision == "answer" else 1] += n
    return ProgressFigures(
        platforms=sorted(platforms),
        langs=sorted(langs),
        coordinators=sum(by_platform_lang.values()),
        by_platform_lang=dict(by_platform_lang),
        steps_done=dict(steps_done),
        steps_count=dict(steps_count),
        events_by_day=dict(events),
        no_event_date=no_date,
        reminders_by_status=dict(by_status),
        paused=paused,
        questions_by_day={d: (a, u) for d, (a, u) in sorted(by_day.items())},
    )
