"""Reminder schedule rules: when each step's reminder goes out, in the coordinator's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Step number of the reminder sent after the Hour of Code.
AFTER_STEP = 0
#: The numbered steps of the plan, in order.
STEPS: tuple[int, ...] = (1, 2, 3, 4, 5)

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    """Remind of ``step`` ``offset_days`` days from the event (negative: before it).

    Attributes:
        step: 1–5, or 0 (:data:`AFTER_STEP`) for the reminder after the Hour of Code.
        offset_days: Days relative to the event date.
    """

    step: int
    offset_days: int

    def __post_init__(self) -> None:
        if self.step != AFTER_STEP and self.step not in STEPS:
            raise ValueError(f"step must be 0 to {STEPS[-1]}, got {self.step}")


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """When automatic reminders go out.

    Attributes:
        rules: One rule per step; a step appears at most once.
        send_at: Local time of day of every automatic reminder.
        quiet_start: Start of the nightly quiet hours (local), inclusive.
        quiet_end: End of the quiet hours (local), exclusive. Equal to ``quiet_start``: no quiet hours.
        skip_weekends: Move automatic reminders off Saturdays and Sundays.
    """

    rules: tuple[ScheduleRule, ...]
    send_at: dt.time = dt.time(9, 0)
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    skip_weekends: bool = True

    def __post_init__(self) -> None:
        steps = [rule.step for rule in self.rules]
        if len(set(steps)) != len(steps):
            raise ValueError(f"a step appears more than once in the rules: {steps}")
        for name in ("send_at", "quiet_start", "quiet_end"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} is a local wall time and must not carry a time zone")

    def is_quiet(self, wall: dt.time) -> bool:
        """True when the local wall time ``wall`` falls inside the quiet hours."""
        start, end = self.quiet_start, self.quiet_end
        wall = wall.replace(tzinfo=None, fold=0)
        if start == end:
            return False
        if start < end:
            return start <= wall < end
        # The usual case: the quiet hours wrap around midnight.
        return wall >= start or wall < end


#: The schedule of the guide: knowledge/schedule.yaml holds the same values.
DEFAULT_POLICY = SchedulePolicy(
    rules=(
        ScheduleRule(1, -28),
        ScheduleRule(2, -21),
        ScheduleRule(3, -14),
        ScheduleRule(4, -10),
        ScheduleRule(5, -7),
        ScheduleRule(AFTER_STEP, 1),
    )
)


def get_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``.

    Raises:
        ValueError: ``name`` is not a time zone known to the system's tz database.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {name!r}") from exc


def local_datetime(day: dt.date, wall: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """``day`` at the wall time ``wall`` in ``zone``, as an aware datetime that really exists.

    A wall time skipped by a spring-forward change (02:30 in Paris on the last Sunday of March)
    moves forward by the length of the gap (03:30), the way a wall clock reads after the change.
    A wall time that occurs twice in autumn is taken at its first occurrence (summer time).
    """
    naive = dt.datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    # With fold=0, zoneinfo reads a skipped time with the offset in force before the gap, so the
    # round trip through UTC lands that many minutes after the gap: the forward shift wanted.
    return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def _off_weekend(day: dt.date, *, before_event: bool) -> dt.date:
    if day.weekday() < _SATURDAY:
        return day
    if before_event:
        # A reminder before the event must not arrive later than planned: previous Friday.
        return day - dt.timedelta(days=day.weekday() - 4)
    return day + dt.timedelta(days=7 - day.weekday())


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def plan_reminders(
    event_date: dt.date,
    tz: str,
    steps_done: Collection[int],
    policy: SchedulePolicy,
    now: dt.datetime,
) -> list[tuple[int, dt.datetime]]:
    """The automatic reminders still to send, as ``(step, UTC time)`` sorted by time.

    Each rule whose step is not in ``steps_done`` gives one reminder on ``event_date +
    offset_days`` at ``policy.send_at`` local time in ``tz``. With ``skip_weekends``, a reminder
    falling on a weekend moves to the previous Friday when it is before the event (so it is never
    late for its deadline) and to the next Monday when it is on or after the event day. If
    ``send_at`` lies inside the quiet hours, ``quiet_end`` of the same day is used instead. The
    wall time stays the same across daylight-saving changes; see :func:`local_datetime` for
    skipped and repeated times. Reminders not strictly after ``now`` are left out, so planning
    again at the moment a reminder is sent never plans it twice.

    Args:
        event_date: The coordinator's Hour of Code date.
        tz: IANA time zone of the coordinator.
        steps_done: Steps already completed (0 too, to drop the reminder after the event).
        policy: The schedule.
        now: The current time, timezone-aware.

    Returns:
        ``(step, due_at)`` pairs with aware UTC datetimes, sorted by time then step.

    Raises:
        ValueError: ``tz`` is unknown or ``now`` is naive.
    """
    zone = get_zone(tz)
    _require_aware(now, "now")
    wall = policy.quiet_end if policy.is_quiet(policy.send_at) else policy.send_at
    planned: list[tuple[int, dt.datetime]] = []
    for rule in policy.rules:
        if rule.step in steps_done:
            continue
        day = event_date + dt.timedelta(days=rule.offset_days)
        if policy.skip_weekends:
            day = _off_weekend(day, before_event=rule.offset_days < 0)
        due = local_datetime(day, wall, zone).astimezone(dt.UTC)
        if due > now:
            planned.append((rule.step, due))
    planned.sort(key=lambda item: (item[1], item[0]))
    return planned


def adjust_manual(local: dt.datetime, policy: SchedulePolicy) -> dt.datetime:
    """Move a time the user asked for out of the quiet hours.

    A time outside the quiet hours is returned unchanged, weekends included: the user chose it.
    A time inside them moves to ``send_at`` on the morning the quiet hours end (``demain 3h`` ->
    09:00 that day; 22:30 -> 09:00 the next day), or to ``quiet_end`` when ``send_at`` is itself
    quiet or would not be later than the requested time.

    Args:
        local: The requested time, aware, in the user's zone.
        policy: The schedule (quiet hours and ``send_at``).

    Returns:
        An aware datetime in the same time zone as ``local``.

    Raises:
        ValueError: ``local`` is naive.
    """
    _require_aware(local, "local")
    wall = local.time()
    if not policy.is_quiet(wall):
        return local
    zone = local.tzinfo
    assert zone is not None  # checked by _require_aware
    day = local.date()
    wraps = policy.quiet_start > policy.quiet_end
    if wraps and wall >= policy.quiet_start:
        day += dt.timedelta(days=1)
    for candidate in (policy.send_at, policy.quiet_end):
        moved = local_datetime(day, candidate, zone)
        if moved > local and not policy.is_quiet(moved.time()):
            return moved
    # Only reachable when a DST gap swallows quiet_end: the instant after the gap ends quiet hours.
    return local_datetime(day, policy.quiet_end, zone)


def next_step(steps_done: Collection[int]) -> int | None:
    """The first step (1–5) not done yet, or None when all are done."""
    for step in STEPS:
        if step not in steps_done:
            return step
    return None


def days_left(event_date: dt.date, today: dt.date) -> int:
    """Days from ``today`` to ``event_date``: 0 on the day, negative once it has passed."""
    return (event_date - today).days
